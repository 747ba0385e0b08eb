"""A preflight `fail` (templates/_preflight.tpl) is bad input at the values line that sets the key its message
begins with (the top-most layer writing it: --values overlay, then values-<env>.yaml, then values.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.cli import main
from policies.core.paths import display_path
from policies.render.helm import HelmError, find_helm
from policies.render.render import load_values_layers, locate_failed_render

STAGING = "charts/prompted-forge-mcp/values-staging.yaml"
DEFAULTS = "charts/prompted-forge-mcp/values.yaml"

# overlay text -> (the key, its deciding file ("overlay" for the --values file), line and column, helm's message)
CASES = {
    "min-replicas-in-the-overlay": (
        "autoscaling:\n  enabled: true\n  minReplicas: 5\n  maxReplicas: 3\n",
        "autoscaling.minReplicas", "overlay", (3, 3),
        "autoscaling.minReplicas must not exceed autoscaling.maxReplicas"),
    "pre-stop-sleep-in-the-overlay": (
        "terminationGracePeriodSeconds: 30\npreStopSleepSeconds: 30\n",
        "preStopSleepSeconds", "overlay", (2, 1),
        "preStopSleepSeconds must be less than terminationGracePeriodSeconds"),
    "pre-stop-sleep-from-the-defaults": (
        "terminationGracePeriodSeconds: 5\n",
        "preStopSleepSeconds", DEFAULTS, (147, 1),
        "preStopSleepSeconds must be less than terminationGracePeriodSeconds"),
    "metrics-port-in-the-overlay": (
        "containerPort: 3000\nmetrics:\n  enabled: true\n  port: 3000\n",
        "metrics.port", "overlay", (4, 3),
        "metrics.port must differ from containerPort"),
    "metrics-port-from-the-defaults": (
        "containerPort: 9464\nmetrics:\n  enabled: true\n",
        "metrics.port", DEFAULTS, (96, 3),
        "metrics.port must differ from containerPort"),
    "guard-request-in-the-overlay": (
        "budgetGuard:\n  requests:\n    cpu: 501m\n",
        "budgetGuard.requests.cpu", "overlay", (3, 5),
        "budgetGuard.requests.cpu must not exceed budgetGuard.limits.cpu"),
    "guard-request-from-the-environment-file": (
        "budgetGuard:\n  limits:\n    cpu: 99m\n",
        "budgetGuard.requests.cpu", STAGING, (22, 5),
        "budgetGuard.requests.cpu must not exceed budgetGuard.limits.cpu"),
}


def _expected_message(overlay: Path, message: str) -> str:
    helm = display_path(find_helm().path)
    return (f"helm failed (exit 1): {helm} template prompted-forge-mcp charts/prompted-forge-mcp --namespace "
            f"prompted-forge-mcp --kube-version 1.31.0 --values {STAGING} --values {display_path(overlay)}: "
            f"execution error at (prompted-forge-mcp/templates/deployment.yaml:1:4): {message}")


@pytest.mark.parametrize(("text", "key", "file", "position", "message"), CASES.values(), ids=CASES.keys())
def test_should_point_a_preflight_failure_at_the_values_line_that_decides_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str, file: str,
    position: tuple[int, int], message: str,
) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(text, encoding="utf-8")
    where = f"{display_path(overlay) if file == 'overlay' else file}"
    said = _expected_message(overlay, message)
    line, column = position

    code = main(["check", "--env", "staging", "--values", str(overlay), "--timing-runs", "0", "--format", "github"])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.splitlines() == [f"error: {where}:{line}:{column}: key '{key}': {said}"]
    assert [out for out in captured.out.splitlines() if out.startswith("::")] == [
        f"::error file={where},line={line},col={column},title=bad input (exit 2)::key '{key}': {said}"]


def test_should_write_the_located_error_into_every_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay, reports, output = tmp_path / "overlay.yaml", tmp_path / "reports", tmp_path / "check.github"
    overlay.write_text("budgetGuard:\n  limits:\n    cpu: 99m\n", encoding="utf-8")
    reports.mkdir()
    (reports / "check.json").write_text('{"summary": {"status": "warn"}}', encoding="utf-8")

    code = main(["check", "--env", "staging", "--values", str(overlay), "--timing-runs", "0",
                 "--reports-dir", str(reports), "--output", str(output), "--format", "github"])

    capsys.readouterr()
    assert code == 2
    summary = json.loads((reports / "check.json").read_text(encoding="utf-8"))["summary"]
    assert (summary["status"], summary["file"], summary["line"], summary["column"], summary["key"]) == (
        "error", STAGING, 22, 5, "budgetGuard.requests.cpu")
    said = _expected_message(overlay, "budgetGuard.requests.cpu must not exceed budgetGuard.limits.cpu")
    assert summary["message"] == f"{STAGING}:22:5: key 'budgetGuard.requests.cpu': {said}"
    for name in ("check.md", "junit.xml", "check.html"):
        assert f"{STAGING}:22:5: key " in (reports / name).read_text(encoding="utf-8"), name
    # The same annotation the run printed: on the values line and column, the key before the message.
    assert output.read_text(encoding="utf-8") == (
        f"::error file={STAGING},line=22,col=5,title=bad input (exit 2)::key 'budgetGuard.requests.cpu': {said}\n")


@pytest.mark.parametrize("said", [
    "helm failed (exit 1): helm template: execution error at (x/templates/a.yaml:1:2): "
    "prompted-forge-mcp.promql: unknown query \"x\"",
    "helm failed (exit 1): helm template: execution error at (x/templates/a.yaml:1:2): replicas are wrong",
    "helm failed (exit 1): helm template: chart requires kubeVersion: >=1.29.0-0",
], ids=["a-template-name", "a-key-no-layer-writes", "no-template-failure"])
def test_should_leave_a_failure_naming_no_values_key_where_helm_put_it(said: str) -> None:
    error = HelmError(said)
    assert locate_failed_render(error, load_values_layers("staging")) is error
