"""Helm operation timing: median and p95 against the budget's limits, in every report, warn vs enforce.

No test here depends on how fast this machine is: the over-limit cases use a
budget whose limits are 0.0001 s, and the within-limit cases judge made-up samples.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.budget import BUDGET_FILE, load_budget
from policies.cli import main
from policies.errors import InputError
from policies.timing import Operation, Timing, default_runs, judge, judge_stage, percentile, time_operation

TINY = 0.0001


def budget_copy(directory: Path, change) -> Path:
    data = yaml.safe_load(BUDGET_FILE.read_text(encoding="utf-8"))
    change(data)
    path = directory / "budget.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def tiny_limits(data: dict[str, Any]) -> None:
    for operation in ("lint", "template", "package"):
        data["helm"][operation]["limitSeconds"] = TINY


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`check` with tiny helm limits, once in warn mode (all report files) and once in enforce mode."""
    directory = tmp_path_factory.mktemp("timing")
    budget = budget_copy(directory, tiny_limits)
    common = ["check", "--env", "development", "--timing-runs", "1", "--budget", str(budget)]
    warn_code = main([*common, "--mode", "warn", "--output", str(directory / "warn.txt"),
                      "--reports-dir", str(directory / "reports")])
    enforce_code = main([*common, "--mode", "enforce", "--format", "json", "--output", str(directory / "enforce.json")])
    return {
        "warn_code": warn_code, "enforce_code": enforce_code,
        "table": (directory / "warn.txt").read_text(encoding="utf-8"),
        "json": json.loads((directory / "reports" / "check.json").read_text(encoding="utf-8")),
        "markdown": (directory / "reports" / "check.md").read_text(encoding="utf-8"),
        "junit": ET.parse(directory / "reports" / "junit.xml").getroot(),
        "enforce": json.loads((directory / "enforce.json").read_text(encoding="utf-8")),
    }


def test_should_warn_and_pass_in_warn_mode_when_helm_is_over_its_limit(tiny_runs):
    assert tiny_runs["warn_code"] == 0
    timing = [f for f in tiny_runs["json"]["findings"] if f["rule"].startswith("timing.helm-")]
    assert {f["rule"] for f in timing} == {"timing.helm-lint", "timing.helm-template", "timing.helm-package"}
    assert {f["severity"] for f in timing} == {"warning"}


def test_should_fail_enforce_mode_naming_the_operation_and_the_limit(tiny_runs):
    assert tiny_runs["enforce_code"] == 1
    lint = next(f for f in tiny_runs["enforce"]["findings"] if f["rule"] == "timing.helm-lint")
    assert lint["severity"] == "failure" and lint["environment"] == "development"
    assert "helm lint for development took" in lint["message"]
    assert f"over the limit of {TINY:g} s" in lint["message"]
    assert lint["expected"] == f"median <= {TINY:g} s"
    assert lint["file"].endswith("budget.yaml") and lint["line"]


def test_should_report_median_p95_and_limit_as_json_rows(tiny_runs):
    rows = {(m["name"], m["environment"]): m for m in tiny_runs["json"]["measurements"]}
    for key in (("helm lint", "development"), ("helm template", "development"), ("helm package", None)):
        row = rows[key]
        assert row["limit"] == TINY and row["status"] == "failure" and row["samples"] == 1
        assert row["value"] > 0 and row["p95"] >= row["value"]
    assert rows[("helm validation stage", None)]["rule"] == "pipeline.helm-validation"


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_should_show_timing_rows_in_the_human_readable_reports(tiny_runs, fmt):
    text = tiny_runs[fmt]
    assert "median" in text and "p95" in text
    for name in ("helm lint", "helm template", "helm package", "helm validation stage"):
        assert name in text
    assert f"{TINY:g} s" in text


def test_should_list_timings_as_junit_testcases(tiny_runs):
    def measured(suite_name: str) -> dict:
        suite = tiny_runs["junit"].find(f"testsuite[@name='{suite_name}']")
        return {c.get("name"): c for c in suite.iter("testcase")
                if c.get("classname", "").endswith(".measurements")}

    per_environment, pipeline = measured("budget.development"), measured("budget.pipeline")
    assert {"helm lint", "helm template"} <= set(per_environment)
    assert "helm package" in pipeline
    assert float(per_environment["helm lint"].get("time")) > 0


def test_should_skip_helm_timing_when_timing_runs_is_zero(capsys):
    code = main(["check", "--env", "development", "--timing-runs", "0", "--format", "json"])
    names = {m["name"] for m in json.loads(capsys.readouterr().out)["measurements"]}
    assert code == 0
    assert "helm lint" not in names and "helm validation stage" in names


def operation(budget_key: str = "lint", environment: str | None = "staging") -> Operation:
    return Operation(budget_key, environment, ("lint",))


def test_should_pass_a_median_within_the_limit_even_when_one_run_is_slow():
    budget = load_budget()
    measurement, finding = judge(Timing(operation(), (0.2, 0.3, 9.0)), budget)
    assert finding is None
    assert (measurement.value, measurement.p95, measurement.limit, measurement.status) == (0.3, 9.0, 5.0, "ok")


def test_should_fail_a_median_over_the_limit():
    measurement, finding = judge(Timing(operation("package", None), (3.5, 3.1, 2.0)), load_budget())
    assert measurement.status == "failure" and measurement.value == 3.1
    assert finding.rule == "timing.helm-package" and finding.environment is None
    assert "helm package took 3.1 s (median of 3 runs, p95 3.5 s), over the limit of 3 s" in finding.message


def test_should_report_a_failing_helm_command_instead_of_timing_it(helm, tmp_path):
    timing = time_operation(helm, Operation("lint", "staging", ("lint", "--strict", str(tmp_path / "no-chart"))), 2)
    measurement, finding = judge(timing, load_budget())
    assert timing.error and measurement.status == "failure"
    assert finding.rule == "helm.error" and "failed, so it cannot be timed" in finding.message


def test_should_take_the_nearest_rank_percentile():
    assert percentile([5, 1, 3, 2, 4], 0.95) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 0.95) == 19
    assert percentile([0.4], 0.95) == 0.4


def test_should_judge_the_helm_stage_against_the_validation_sla():
    budget = load_budget()
    assert judge_stage(29.0, budget)[1] is None
    row, finding = judge_stage(31.5, budget)
    assert row.status == "failure" and finding.rule == "pipeline.helm-validation"
    assert "31.5 s, over the 30 s SLA" in finding.message


def test_should_read_the_default_run_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("POLICIES_TIMING_RUNS", "5")
    assert default_runs() == 5
    monkeypatch.setenv("POLICIES_TIMING_RUNS", "many")
    with pytest.raises(InputError, match="whole number"):
        default_runs()
