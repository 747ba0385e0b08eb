"""The chart's cross-field checks (templates/_preflight.tpl) stop a render in both helms, exactly at the boundary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.render.helm import DEFAULT_KUBE_VERSION, Helm, HelmError, find_helm
from policies.render.helmcalls import RELEASE_NAME

# values overlay -> the message helm must stop with
FAILING = {
    "pre-stop-sleep-equals-grace-period": (
        {"preStopSleepSeconds": 30, "terminationGracePeriodSeconds": 30},
        "preStopSleepSeconds must be less than terminationGracePeriodSeconds"),
    "metrics-port-is-the-container-port": (
        {"metrics": {"enabled": True, "port": 3000}, "containerPort": 3000},
        "metrics.port must differ from containerPort"),
    "min-replicas-one-over-max": (
        {"autoscaling": {"enabled": True, "minReplicas": 4, "maxReplicas": 3}},
        "autoscaling.minReplicas must not exceed autoscaling.maxReplicas"),
    "guard-request-one-millicore-over-its-limit": (
        {"budgetGuard": {"enabled": True, "requests": {"cpu": "501m", "memory": "128Mi"},
                         "limits": {"cpu": "500m", "memory": "128Mi"}}},
        "budgetGuard.requests.cpu must not exceed budgetGuard.limits.cpu"),
}
# Each failing case's twin one step inside the boundary, and a switch that turns the check off.
PASSING = {
    "pre-stop-sleep-one-under-grace-period": {"preStopSleepSeconds": 29, "terminationGracePeriodSeconds": 30},
    "no-pre-stop-sleep": {"preStopSleepSeconds": 0, "terminationGracePeriodSeconds": 1},
    "metrics-port-one-apart": {"metrics": {"enabled": True, "port": 3001}, "containerPort": 3000},
    "metrics-off-on-the-container-port": {"metrics": {"enabled": False, "port": 3000}, "containerPort": 3000},
    "min-replicas-equal-max": {"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 3}},
    "autoscaling-off-with-min-over-max": {"autoscaling": {"enabled": False, "minReplicas": 4, "maxReplicas": 3}},
    "guard-request-equal-to-its-limit": {"budgetGuard": {"enabled": True,
                                                         "requests": {"cpu": "500m", "memory": "128Mi"},
                                                         "limits": {"cpu": "500m", "memory": "128Mi"}}},
    "guard-off-with-request-over-limit": {"budgetGuard": {"enabled": False,
                                                          "requests": {"cpu": "501m", "memory": "128Mi"},
                                                          "limits": {"cpu": "500m", "memory": "128Mi"}}},
}


@pytest.fixture(scope="module", params=["HELM", "HELM3"], ids=lambda v: f"helm={v}")
def each_helm(request: pytest.FixtureRequest) -> Helm:
    return find_helm(request.param)


def _template(helm: Helm, chart_dir: Path, tmp_path: Path, overlay: dict[str, Any]) -> None:
    values = tmp_path / "overlay.yaml"
    values.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    helm.run("template", RELEASE_NAME, str(chart_dir), "--kube-version", DEFAULT_KUBE_VERSION,
                    "--values", str(values))


@pytest.mark.parametrize(("overlay", "message"), FAILING.values(), ids=FAILING.keys())
def test_should_stop_the_render_on_a_bad_combination(
    tmp_path: Path, chart_dir: Path, each_helm: Helm, overlay: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmError) as caught:
        _template(each_helm, chart_dir, tmp_path, overlay)
    assert message in str(caught.value)


@pytest.mark.parametrize("overlay", PASSING.values(), ids=PASSING.keys())
def test_should_render_the_twin_inside_the_boundary(
    tmp_path: Path, chart_dir: Path, each_helm: Helm, overlay: dict[str, Any]
) -> None:
    _template(each_helm, chart_dir, tmp_path, overlay)


def test_should_keep_every_cross_field_fail_in_the_preflight_template(chart_dir: Path) -> None:
    # _helpers.tpl's fails guard its own callers (an unknown PromQL scope or query), not values.
    fails = re.compile(r"\bfail\s+[(\"]")
    with_fail = sorted(path.name for path in (chart_dir / "templates").rglob("*")
                       if path.is_file() and fails.search(path.read_text(encoding="utf-8")))
    assert with_fail == ["_helpers.tpl", "_preflight.tpl"]
