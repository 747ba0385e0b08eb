"""`python -m policies check`: a violation in any rule family fails enforce mode, warns in warn mode,
and names the field, the environment and where to fix it."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from rulekit import safe_dump_all

from policies import REPO_ROOT
from policies.catalogue import rule_class
from policies.cli import main
from policies.core.ruleclass import BUDGET, SAFETY

# (family, environment, values overlay, rule id, field fragment)
VALUES_VIOLATIONS = [
    ("resources", "production", {"resources": {"limits": {"memory": "2Gi"}}}, "resources.within-budget",
     "resources.limits.memory"),
    ("rollout", "production", {"autoscaling": {"minReplicas": 1}}, "rollout.min-replicas", "spec.minReplicas"),
    ("probes", "staging", {"probes": {"liveness": {"periodSeconds": 20}}}, "probes.period",
     "livenessProbe.periodSeconds"),
    ("timing", "staging", {"probes": {"startup": {"failureThreshold": 2}}}, "timing.no-premature-kill",
     "startupProbe"),
    ("metrics", "production", {"metrics": {"enabled": True}}, "metrics.environments", "ports"),
    ("security", "staging", {"securityContext": {"readOnlyRootFilesystem": False}}, "security.read-only-root",
     "readOnlyRootFilesystem"),
    ("secrets", "development", {"extraEnv": {"API_TOKEN": "s3cr3t-value"}}, "secrets.literal", "extraEnv"),
    ("guard", "production", {"budgetGuard": {"limits": {"memory": "2Gi"}}}, "guard.equals-budget",
     "spec.limits[0].max.memory"),
]


def write_overlay(tmp_path: Path, overlay: dict) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text("# an extra values file\n" + yaml.safe_dump(overlay), encoding="utf-8")
    return path


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", "--timing-runs", "0", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("environment", "overlay", "rule", "field"),
                         [pytest.param(*case[1:], id=case[0]) for case in VALUES_VIOLATIONS])
def test_should_fail_enforce_mode_for_a_values_violation(environment, overlay, rule, field, tmp_path, capsys):
    overlay_file = write_overlay(tmp_path, overlay)
    code, report = run_json(capsys, "--env", environment, "--values", str(overlay_file), "--mode", "enforce")
    assert code == 1
    hits = [f for f in report["findings"] if f["rule"] == rule]
    assert hits, report["findings"]
    assert hits[0]["environment"] == environment
    assert field in (hits[0]["field"] or "")
    assert hits[0]["severity"] == "failure"
    assert hits[0]["file"] == str(overlay_file) and hits[0]["line"] >= 2


@pytest.mark.parametrize(("environment", "overlay", "rule"),
                         [pytest.param(*case[1:4], id=case[0]) for case in VALUES_VIOLATIONS])
def test_should_only_warn_on_budget_rules_in_warn_mode(environment, overlay, rule, tmp_path, capsys):
    code, report = run_json(capsys, "--env", environment, "--values", str(write_overlay(tmp_path, overlay)),
                            "--mode", "warn")
    expected = "warning" if rule_class(rule) == BUDGET else "failure"
    assert {f["severity"] for f in report["findings"] if f["rule"] == rule} == {expected}
    failing = {f["rule"] for f in report["findings"] if f["severity"] == "failure"}
    assert {rule_class(r) for r in failing} <= {SAFETY}  # safety rules (and the drift guard) fail in every phase
    assert code == (1 if failing else 0)


def test_should_follow_the_budget_phase_when_no_mode_is_given(tmp_path, capsys, budget):
    # A budget rule alone: an over-budget pod would also be refused by production's namespace guard,
    # which is a safety finding in every phase.
    overlay = write_overlay(tmp_path, VALUES_VIOLATIONS[1][2])
    code, report = run_json(capsys, "--env", "production", "--values", str(overlay))
    assert report["summary"]["mode"] == budget.mode
    assert code == (1 if budget.mode == "enforce" else 0)


def test_should_report_the_budget_use_of_each_resource(capsys, budget):
    # On the day of the last review, so the review schedule adds no warning however old the budget gets.
    code, report = run_json(capsys, "--env", "production", "--mode", "enforce", "--today", budget.reviewed.isoformat())
    assert code == 0 and report["findings"] == []
    usage = {(u["kind"], u["name"]): u for u in report["budget_usage"]}
    assert usage[("limits", "memory")]["actual"] == "1Gi" and usage[("limits", "memory")]["percent"] == 100


def test_should_check_prerendered_manifests(tmp_path, capsys, render_env):
    docs = render_env("production").manifests.docs()
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(safe_dump_all(docs), encoding="utf-8")
    code, report = run_json(capsys, "--env", "production", "--manifests", str(manifests), "--mode", "enforce")
    assert code == 1
    hit = next(f for f in report["findings"] if f["rule"] == "rollout.max-unavailable")
    assert hit["field"] == "spec.strategy.rollingUpdate.maxUnavailable"
    assert hit["file"] == str(manifests) and hit["line"] >= 1


def test_should_pass_every_shipped_environment_in_enforce_mode(capsys):
    code, report = run_json(capsys, "--mode", "enforce")
    assert code == 0, report["findings"]
    assert report["summary"]["environments"] == ["development", "staging", "production"]


def test_should_write_all_report_formats(tmp_path, capsys):
    overlay = write_overlay(tmp_path, VALUES_VIOLATIONS[0][2])
    reports = tmp_path / "reports"
    code = main(["check", "--env", "production", "--values", str(overlay), "--mode", "enforce",
                 "--timing-runs", "0", "--reports-dir", str(reports)])
    table = capsys.readouterr().out
    assert code == 1
    assert "production" in table and "memory limit" in table and "2Gi" in table and "200.0 %" in table
    assert json.loads((reports / "check.json").read_text())["summary"]["failures"] >= 1
    suites = ET.fromstring((reports / "junit.xml").read_text())
    failing = [c.get("name") for c in suites.iter("testcase") if c.find("failure") is not None]
    assert "resources.within-budget" in failing
    assert "| failure | resources.within-budget | production |" in (reports / "check.md").read_text()
    assert not list(reports.glob(".*.tmp"))


def test_should_annotate_the_values_line_for_github(tmp_path, capsys):
    overlay = write_overlay(tmp_path, VALUES_VIOLATIONS[0][2])
    code = main(["check", "--env", "production", "--values", str(overlay), "--mode", "enforce",
                 "--timing-runs", "0", "--format", "github"])
    out = capsys.readouterr().out
    assert code == 1
    annotation = next(line for line in out.splitlines() if "resources.within-budget" in line)
    assert annotation.startswith(f"::error file={overlay},line=")


def test_should_write_output_file_instead_of_stdout(tmp_path, capsys):
    target = tmp_path / "out" / "report.md"
    assert main(["check", "--env", "development", "--format", "markdown", "--timing-runs", "0",
                 "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text().startswith("# Performance budget check")


def test_should_point_a_missing_object_at_the_value_that_switched_it_off(capsys, tmp_path):
    code, report = run_json(capsys, "--env", "staging", "--mode", "enforce", "--values",
                            str(write_overlay(tmp_path, {"podDisruptionBudget": {"enabled": False}})))
    hit = next(f for f in report["findings"] if f["rule"] == "rollout.pdb-present")
    assert code == 1 and hit["file"].endswith("overlay.yaml")


def test_should_name_the_template_when_no_value_decides(capsys, tmp_path):
    """A typo inside a passthrough object renders; the strict schema names the template that emitted it."""
    overlay = write_overlay(tmp_path, {"securityContext": {"runAsUsr": 10001}})
    code, report = run_json(capsys, "--env", "staging", "--mode", "enforce", "--values", str(overlay))
    hit = next(f for f in report["findings"] if f["rule"] == "schema.kubernetes" and "runAsUsr" in f["field"])
    assert code == 1 and hit["file"] == "charts/prompted-forge-mcp/templates/deployment.yaml"


def test_should_keep_repo_relative_paths_for_shipped_files(capsys, tmp_path):
    """Findings on shipped values files name them relative to the repository, for annotations."""
    code, report = run_json(capsys, "--env", "production", "--mode", "enforce", "--budget",
                            str(tight_budget(tmp_path)))
    hit = next(f for f in report["findings"] if f["rule"] == "resources.within-budget")
    assert code == 1 and hit["file"] == "charts/prompted-forge-mcp/values-production.yaml"


def tight_budget(tmp_path: Path) -> Path:
    data = yaml.safe_load((REPO_ROOT / "policies" / "budget.yaml").read_text())
    data["environments"]["production"]["resources"]["limits"]["memory"] = "512Mi"
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_should_report_chart_yaml_problems(tmp_path, capsys):
    chart = tmp_path / "prompted-forge-mcp"
    shutil.copytree(REPO_ROOT / "charts" / "prompted-forge-mcp", chart)
    chart_yaml = chart / "Chart.yaml"
    version = yaml.safe_load(chart_yaml.read_text())["version"]
    chart_yaml.write_text(chart_yaml.read_text().replace(f"\nversion: {version}", "\nversion: \"1.0\""))
    code, report = run_json(capsys, "--env", "staging", "--chart", str(chart), "--mode", "enforce")
    hit = next(f for f in report["findings"] if f["rule"] == "chart.metadata")
    assert code == 1 and hit["field"] == "version" and hit["file"] == str(chart_yaml) and hit["line"]
