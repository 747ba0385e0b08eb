"""Rendered findings point at the values line that decided the value: the top-most layer that set it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rulekit import line_of

from policies import CHART_DIR
from policies.cli import main
from policies.core.paths import display_path
from policies.inputs.yamlsource import load_yaml_file
from policies.render.render import ValuesLayers

DEPLOYMENT = "Deployment/prompted-forge-mcp"
VALUES = display_path(CHART_DIR / "values.yaml")
STAGING = display_path(CHART_DIR / "values-staging.yaml")


def layers(tmp_path: Path, *texts: str) -> ValuesLayers:
    files = []
    for index, text in enumerate(texts):
        path = tmp_path / f"layer{index}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(load_yaml_file(path))
    return ValuesLayers(tuple(files))


DEFAULTS = "probes:\n  readiness:\n    periodSeconds: 5\n    failureThreshold: 3\nextraArgs:\n  - --a\n  - --b\n"


def test_should_name_the_top_most_layer_that_writes_the_key(tmp_path: Path) -> None:
    stack = layers(tmp_path, DEFAULTS, "# env\nprobes:\n  readiness:\n    periodSeconds: 7\n",
                   "probes:\n  readiness:\n    periodSeconds: 20\n")
    assert stack.decide(("probes", "readiness", "periodSeconds")) == (2, str(tmp_path / "layer2.yaml"), 3)
    assert stack.decide(("probes", "readiness", "failureThreshold")) == (0, str(tmp_path / "layer0.yaml"), 4)


def test_should_name_the_layer_that_replaced_a_list(tmp_path: Path) -> None:
    stack = layers(tmp_path, DEFAULTS, "# env\nextraArgs: [--c]\n")
    # values.yaml writes extraArgs[1]; the environment's list replaced it wholesale.
    assert stack.decide(("extraArgs", 1)) == (1, str(tmp_path / "layer1.yaml"), 2)


def test_should_fall_back_to_the_written_parent_when_the_template_defaults(tmp_path: Path) -> None:
    stack = layers(tmp_path, DEFAULTS, "# env\nprobes:\n  readiness:\n    periodSeconds: 7\n")
    assert stack.decide(("probes", "readiness", "timeoutSeconds")) == (1, str(tmp_path / "layer1.yaml"), 3)
    assert stack.decide(("nothing", "here")) is None


def test_should_name_each_input_of_a_timing_finding_and_point_at_the_overlay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("# slower readiness\nprobes:\n  readiness:\n    periodSeconds: 20\n", encoding="utf-8")

    code = main(["check", "--env", "staging", "--values", str(overlay), "--format", "json", "--timing-runs", "0",
                 "--mode", "enforce"])

    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"].startswith("timing.")]
    assert code == 1
    assert [(f["rule"], f["resource"], f["field"], f["file"], f["line"]) for f in findings] == [
        ("timing.pod-replacement", DEPLOYMENT, "spec.template.spec.containers[0].readinessProbe.periodSeconds",
         display_path(overlay), 4),
        ("timing.stabilization", DEPLOYMENT, "spec.template.spec.containers[0].readinessProbe",
         display_path(overlay), 4),
    ]
    values = CHART_DIR / "values.yaml"
    readiness = line_of(values, "readiness:")
    assert findings[1]["inputs"] == [
        f"probes.readiness.periodSeconds=20 ({display_path(overlay)}:4)",
        f"probes.readiness.failureThreshold=3 ({VALUES}:{line_of(values, 'failureThreshold:', readiness)})",
    ]
    assert findings[1]["message"].endswith("; from " + ", ".join(findings[1]["inputs"]))
    assert findings[0]["inputs"][:2] == [
        f"features.observability=true ({STAGING}:{line_of(CHART_DIR / 'values-staging.yaml', 'observability:')})",
        f"features.orchestrator=true ({VALUES}:{line_of(values, 'orchestrator: true')})",
    ]


QUOTA = "ResourceQuota/prompted-forge-mcp-budget"
LIMIT_RANGE = "LimitRange/prompted-forge-mcp-budget"
PRODUCTION = CHART_DIR / "values-production.yaml"


def guard_findings(tmp_path: Path, overlay_text: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(overlay_text, encoding="utf-8")
    main(["check", "--env", "production", "--values", str(overlay), "--format", "json", "--timing-runs", "0"])
    return [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"].startswith("guard.")]


def test_should_point_a_quota_that_differs_from_the_budget_at_the_guard_figure_in_the_overlay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = guard_findings(tmp_path, "resources:\n  limits:\n    cpu: 1500m\nbudgetGuard:\n  limits:\n    cpu: 1500m\n",
                           capsys)
    overlay = display_path(tmp_path / "overlay.yaml")
    # The quota's limits.cpu is budgetGuard.limits.cpu (line 6) times the pods, plus the test pod's limit:
    # the same line as the LimitRange's figures, so one finding names all four.
    assert [(f["rule"], f["file"], f["line"], f["affects"]) for f in found] == [
        ("guard.equals-budget", overlay, 6, [f"{LIMIT_RANGE} spec.limits[0].max.cpu",
                                             f"{LIMIT_RANGE} spec.limits[0].default.cpu",
                                             f"{LIMIT_RANGE} spec.limits[1].max.cpu",
                                             f'{QUOTA} spec.hard["limits.cpu"]']),
    ]
    test_limit = line_of(CHART_DIR / "values.yaml", "cpu: 500m", line_of(CHART_DIR / "values.yaml", "budgetTest:"))
    assert found[0]["message"].endswith(
        f"{QUOTA} limits.cpu differs from the production budget for this rollout: 13 x 1000m + 500m; from "
        f"budgetGuard.limits.cpu=1500m ({overlay}:6), budgetTest.resources.limits.cpu=500m ({VALUES}:{test_limit}) "
        f'({QUOTA} spec.hard["limits.cpu"])')


def test_should_point_a_quota_too_small_for_the_pods_at_the_guard_figure_that_sizes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = guard_findings(tmp_path, "resources:\n  limits:\n    cpu: 1500m\n", capsys)
    guard_cpu = line_of(PRODUCTION, "cpu:", line_of(PRODUCTION, "limits:", line_of(PRODUCTION, "budgetGuard:")))
    test_limit = line_of(CHART_DIR / "values.yaml", "cpu: 500m", line_of(CHART_DIR / "values.yaml", "budgetTest:"))
    production = display_path(PRODUCTION)
    assert [(f["rule"], f["resource"], f["file"], f["line"], f["inputs"]) for f in found] == [
        ("guard.limitrange-admits", DEPLOYMENT, display_path(tmp_path / "overlay.yaml"), 3,
         []),
        ("guard.quota-admits", QUOTA, production, guard_cpu,
         [f"budgetGuard.limits.cpu=1000m ({production}:{guard_cpu})",
          f"budgetTest.resources.limits.cpu=500m ({VALUES}:{test_limit})"]),
    ]
