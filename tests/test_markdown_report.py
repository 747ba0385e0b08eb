"""Markdown reads in a reader's order: verdict, findings (links, waivers), budget use (over budget marked),
measurements."""

from __future__ import annotations

import pytest

from policies.core.findings import failure, warning
from policies.core.outcome import Measurement, Outcome
from policies.reports import markdown

VALUES = "charts/prompted-forge-mcp/values-production.yaml"


def outcome() -> Outcome:
    result = Outcome(mode="enforce", phase="3.4.4", environments=["production"])
    result.findings = [
        failure("resources.within-budget", "memory limit over budget", environment="production",
                resource="Deployment/app", field="resources.limits.memory", expected="<= 1Gi", actual="2Gi",
                file=VALUES, line=12),
        warning("probes.period", "interval 20s", environment="production", resource="Deployment/app",
                field="livenessProbe.periodSeconds", expected="5..10", actual="20", file="/tmp/overlay.yaml", line=4,
                waived_by="probes.period@* (policies/waivers.yaml:5)", waiver_reason="probe load test, ticket OPS-7",
                waiver_expires="2026-12-31"),
    ]
    result.usage = [
        {"environment": "production", "resource": "Deployment/app", "kind": "limits", "name": "memory",
         "actual": "2Gi", "budget": "1Gi", "percent": 200.0, "status": "over"},
        {"environment": "production", "resource": "Deployment/app", "kind": "limits", "name": "cpu",
         "actual": "1000m", "budget": "1000m", "percent": 100.0, "status": "at"},
    ]
    result.measurements = [Measurement("render", "s", 0.4, None, "ok", environment="production")]
    return result


def test_should_put_the_verdict_then_findings_then_budget_use_then_measurements() -> None:
    text = markdown.render(outcome())
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["# Performance budget check", "## Findings", "## Budget use", "## Measurements"]
    assert text.splitlines()[2].startswith("**FAIL: 1 failure(s), 0 warning(s), 1 waived")


def test_should_link_each_finding_to_its_line_and_show_the_waiver(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"):
        monkeypatch.delenv(name, raising=False)
    rows = [line for line in markdown.render(outcome()).splitlines() if line.startswith("| failure") or
            line.startswith("| waived")]
    assert rows == [
        "| failure | resources.within-budget | production | Deployment/app | resources.limits.memory | <= 1Gi | 2Gi "
        f"| [{VALUES}:12]({VALUES}#L12) | memory limit over budget | - |",
        "| waived | probes.period | production | Deployment/app | livenessProbe.periodSeconds | 5..10 | 20 "
        "| /tmp/overlay.yaml:4 | interval 20s | probe load test, ticket OPS-7 (expires 2026-12-31) |",
    ]


def test_should_link_to_the_commit_on_github_when_the_run_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "prompted-forge/charts")
    monkeypatch.setenv("GITHUB_SHA", "0123abc")
    assert markdown.file_link(outcome().findings[0]) == (
        f"[{VALUES}:12](https://github.com/prompted-forge/charts/blob/0123abc/{VALUES}#L12)")


def test_should_mark_rows_over_budget_and_exactly_at_budget_differently() -> None:
    rows = [line for line in markdown.render(outcome()).splitlines() if line.startswith("| production |")]
    assert rows == [
        "| production | memory limit | 2Gi | 1Gi | 200.0 % | **\u25b2 over budget** |",
        "| production | cpu limit | 1000m | 1000m | 100.0 % | = at budget |",
    ]
