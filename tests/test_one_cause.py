"""One cause, one finding: a values line that reaches several objects is reported (and annotated) once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.cli import main
from policies.core.findings import failure
from policies.core.paths import display_path
from policies.judging.grouping import group_by_cause

DEPLOYMENT = "Deployment/prompted-forge-mcp"


@pytest.fixture
def metrics_on(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.yaml"
    path.write_text("# metrics for production\nmetrics:\n  enabled: true\n", encoding="utf-8")
    return path


def test_should_report_metrics_in_production_once_listing_what_it_reaches(
    metrics_on: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", "--env", "production", "--values", str(metrics_on), "--format", "json", "--timing-runs", "0",
          "--mode", "enforce"])

    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "metrics.environments"]
    assert [(f["rule"], f["resource"], f["field"], f["file"], f["line"]) for f in findings] == [
        ("metrics.environments", DEPLOYMENT, "spec.template.spec.containers[0].ports[1]", display_path(metrics_on), 3)]
    assert findings[0]["affects"] == [
        f"{DEPLOYMENT} spec.template.spec.containers[0].ports[1]",
        "ConfigMap/prompted-forge-mcp data.PF_METRICS_ENABLED",
        "Service/prompted-forge-mcp spec.ports[1]",
        "ServiceMonitor/prompted-forge-mcp kind",
    ]


def test_should_annotate_one_cause_once_for_github(metrics_on: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--env", "production", "--values", str(metrics_on), "--format", "github", "--timing-runs", "0",
          "--mode", "enforce"])

    annotations = [line for line in capsys.readouterr().out.splitlines()
                   if line.startswith(("::error", "::warning")) and "title=metrics.environments" in line]
    assert len(annotations) == 1
    assert annotations[0].startswith(f"::error file={display_path(metrics_on)},line=3,")


def test_should_keep_findings_apart_when_rule_line_or_outcome_differ() -> None:
    one = failure("probes.period", "a", environment="staging", resource="Deployment/a", file="v.yaml", line=3)
    findings = [
        one,
        failure("probes.period", "b", environment="staging", resource="Deployment/b", file="v.yaml", line=4),
        failure("probes.distinct", "c", environment="staging", resource="Deployment/a", file="v.yaml", line=3),
        failure("probes.period", "d", environment="production", resource="Deployment/a", file="v.yaml", line=3),
        failure("probes.period", "e", environment="staging", resource="Deployment/c", file="v.yaml", line=None),
    ]
    assert group_by_cause(findings) == findings


def test_should_merge_same_rule_and_line_keeping_the_first_as_lead() -> None:
    first = failure("metrics.environments", "port", environment="production", resource="Deployment/a",
                    field="ports[1]", file="v.yaml", line=3)
    second = failure("metrics.environments", "monitor", environment="production", resource="ServiceMonitor/a",
                     field="kind", file="v.yaml", line=3)

    [merged] = group_by_cause([first, second])

    assert (merged.resource, merged.field, merged.affects) == (
        "Deployment/a", "ports[1]", ("Deployment/a ports[1]", "ServiceMonitor/a kind"))
    assert merged.message == "port; from the same line: monitor (ServiceMonitor/a kind)"
