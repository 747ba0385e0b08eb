"""The chart renders, lints strictly and packages for every environment with the pinned helm."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from policies.render.helm import DEFAULT_KUBE_VERSION
from policies.render.helmcalls import values_file_for
from policies.render.render import render_environment

SERVICE_KINDS = {"Deployment", "Service", "ServiceAccount", "ConfigMap", "NetworkPolicy"}


def test_should_render_the_service_objects(rendered):
    kinds = {m.kind for m in rendered.manifests}
    assert kinds >= SERVICE_KINDS, f"{rendered.environment} renders {sorted(kinds)}"
    deployment = rendered.manifests.get("Deployment")
    assert deployment.source == "prompted-forge-mcp/templates/deployment.yaml"


def test_should_list_what_exists_when_a_lookup_misses(rendered):
    with pytest.raises(LookupError, match="Deployment/prompted-forge-mcp"):
        rendered.manifests.get("StatefulSet", "nope")


def test_should_leave_replicas_to_the_autoscaler_in_production(render_env):
    production = render_env("production")
    assert "replicas" not in production.manifests.get("Deployment").doc["spec"]
    assert production.manifests.get("HorizontalPodAutoscaler").doc["spec"]["minReplicas"] >= 2


def test_should_render_a_disruption_budget_only_when_two_replicas_can_exist(render_env):
    assert not render_env("development").manifests.of_kind("PodDisruptionBudget")
    assert render_env("staging").manifests.of_kind("PodDisruptionBudget")


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_should_lint_strictly(environment, helm, chart_dir):
    result = helm.run("lint", "--strict", str(chart_dir), "--values", str(values_file_for(environment)),
                      "--kube-version", DEFAULT_KUBE_VERSION)
    assert "0 chart(s) failed" in result.stdout


def test_should_package_the_chart(helm, chart_dir, tmp_path: Path):
    helm.run("package", str(chart_dir), "--destination", str(tmp_path))
    (package,) = tmp_path.glob("prompted-forge-mcp-*.tgz")
    with tarfile.open(package) as archive:
        names = archive.getnames()
    assert "prompted-forge-mcp/values-production.yaml" in names
    assert "prompted-forge-mcp/values.schema.json" in names
    assert "prompted-forge-mcp/templates/deployment.yaml" in names


def test_should_fail_the_render_on_a_typo_in_values(render_overlay):
    from policies.core.errors import InputError

    with pytest.raises(InputError) as error:
        render_overlay("production", {"resurces": {"limits": {"memory": "1Gi"}}})
    assert "resurces" in str(error.value)


# The budget's requests and limits are spelled out in every environment file, even where they
# equal the defaults, so each file shows its environment's numbers; nothing else may repeat a default.
EXPLICIT_EVEN_WHEN_DEFAULT = ("resources",)


def _leaves(data: object, path: tuple = ()) -> list[tuple[tuple, object]]:
    if isinstance(data, dict) and data:
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    return [(path, data)]


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_should_keep_environment_files_small_overlays(environment, chart_dir):
    import yaml

    defaults = yaml.safe_load((chart_dir / "values.yaml").read_text())
    overlay = yaml.safe_load(values_file_for(environment).read_text())
    repeated = []
    for path, value in _leaves(overlay):
        if path[0] in EXPLICIT_EVEN_WHEN_DEFAULT:
            continue
        default = defaults
        for key in path:
            default = default.get(key) if isinstance(default, dict) else None
        if default == value:
            repeated.append(".".join(path))
    assert repeated == [], f"values-{environment}.yaml repeats defaults: {repeated}"


def test_should_render_the_service_monitor_without_asking_for_its_api(helm):
    # A plain render, as `helm install --dry-run=client` does it: no --api-versions. Nothing the
    # chart enables may disappear because an API is missing; `make install` checks the cluster.
    development = render_environment("development", helm=helm)
    assert "--api-versions" not in development.command
    assert development.manifests.get("ServiceMonitor").source == "prompted-forge-mcp/templates/servicemonitor.yaml"


def test_should_drop_the_service_monitor_only_when_it_is_switched_off(render_overlay):
    switched_off = render_overlay("development", {"metrics": {"serviceMonitor": {"enabled": False}}})
    assert not switched_off.manifests.of_kind("ServiceMonitor")


def test_should_gate_no_template_on_the_cluster_s_apis(chart_dir):
    gated = [path.name for path in sorted((chart_dir / "templates").rglob("*")) if path.is_file()
             and ".Capabilities.APIVersions" in path.read_text(encoding="utf-8")]
    assert gated == []
