"""Helm operation timing: median and p95 against the budget's limits, in every report, warn vs enforce.

No test here depends on how fast this machine is: the over-limit cases use a
budget whose limits are 0.0001 s, and the within-limit cases judge made-up samples.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies import CHART_DIR
from policies.checks.timing import judge, judge_stage
from policies.cli import main
from policies.core.errors import InputError
from policies.engine import CheckRequest, run_check
from policies.inputs.budget import BUDGET_FILE, load_budget
from policies.inputs.samples import default_runs
from policies.render import helm as helm_module
from policies.render.helm import Helm, HelmError
from policies.render.helmcalls import Operation, RenderSettings, lint_operation
from policies.render.helmtimes import Timing, percentile, time_operation

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
    assert names == {"render"}  # no helm time is judged: the stage without lint and package is not the SLA's


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


# -- Failure injection: a helm that is slow on purpose -------------------------------------------------

# The stub sleeps this long before every helm call, so a call never takes less: a limit below it fails
# however fast the machine is. Each slow check sleeps three times in a row (timed calls never overlap).
SLEEP_SECONDS = 0.15
UNDER_THE_SLEEP = 0.1  # a limit the sleep alone exceeds


def sleeping_helm(directory: Path, real: Helm) -> Helm:
    """NOT helm: a failure-injection stub that sleeps, then runs the real helm with the same arguments."""
    stub = directory / "slow-helm-stub"
    stub.write_text(f"#!/bin/sh\nsleep {SLEEP_SECONDS}\nexec {real.path} \"$@\"\n", encoding="utf-8")
    stub.chmod(0o755)
    return Helm(path=stub, version=real.version)


def slow_check(tmp_path: Path, helm: Helm, limit: float, runs: int = 1):
    budget = load_budget(budget_copy(tmp_path, lambda data: [
        data["helm"][op].__setitem__("limitSeconds", limit) for op in ("lint", "template", "package")]))
    request = CheckRequest(environments=["development"], budget=budget, helm=sleeping_helm(tmp_path, helm),
                           timing_runs=runs, mode="enforce")
    return run_check(request)


def test_should_fail_every_limit_when_a_stub_helm_sleeps_past_it(helm, tmp_path):
    outcome = slow_check(tmp_path, helm, limit=UNDER_THE_SLEEP)
    timing = sorted((f.rule, f.environment) for f in outcome.findings if f.rule.startswith("timing."))
    assert timing == [("timing.helm-lint", "development"), ("timing.helm-package", None),
                      ("timing.helm-template", "development")]
    assert outcome.exit_code == 1
    lint = next(f for f in outcome.findings if f.rule == "timing.helm-lint")
    assert f"(one sample), over the limit of {UNDER_THE_SLEEP:g} s" in lint.message
    rows = {m.name: m for m in outcome.measurements if m.name.startswith("helm ") and m.name != "helm validation stage"}
    assert {name: (row.samples, row.status) for name, row in rows.items()} == {
        "helm lint": (1, "failure"), "helm template": (1, "failure"), "helm package": (1, "failure")}


def test_should_fail_the_limits_through_the_command_whose_helm_calls_start_before_the_engine(
        helm, tmp_path, monkeypatch):
    """The CLI starts helm before it imports the engine: the same stub, as $HELM, fails the same limits."""
    stub = sleeping_helm(tmp_path, helm)
    budget = budget_copy(tmp_path, lambda data: [
        data["helm"][op].__setitem__("limitSeconds", UNDER_THE_SLEEP) for op in ("lint", "template", "package")])
    monkeypatch.setenv("HELM", str(stub.path))
    monkeypatch.setattr(helm_module, "VERSION_CACHE", tmp_path / "versions.json")
    helm_module.find_helm.cache_clear()
    try:
        code = main(["check", "--env", "development", "--budget", str(budget), "--mode", "enforce",
                     "--format", "json", "--output", str(tmp_path / "report.json")])
    finally:
        helm_module.find_helm.cache_clear()
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert code == 1
    assert sorted(f["rule"] for f in report["findings"] if f["rule"].startswith("timing.")) == [
        "timing.helm-lint", "timing.helm-package", "timing.helm-template"]
    rows = {m["name"]: (m["samples"], m["status"]) for m in report["measurements"] if m["name"] in (
        "helm lint", "helm template", "helm package")}
    assert rows == {"helm lint": (1, "failure"), "helm template": (1, "failure"), "helm package": (1, "failure")}


def test_should_pass_the_same_slow_helm_under_the_budgets_own_limits(helm, tmp_path):
    outcome = slow_check(tmp_path, helm, limit=5.0)
    assert [f for f in outcome.findings if f.rule.startswith("timing.")] == []


def test_should_take_a_warm_up_and_n_samples_when_asked_for_more_than_one(helm, tmp_path):
    calls = []

    class Counting(Helm):
        def run(self, *args, **kwargs):
            calls.append(args[0])
            return super().run(*args, **kwargs)

    counting = Counting(path=helm.path, version=helm.version)
    operation = Operation("lint", "development", ("lint", "--strict", str(CHART_DIR)))
    assert len(time_operation(counting, operation, 1).samples) == 1 and calls == ["lint"]
    calls.clear()
    assert len(time_operation(counting, operation, 3).samples) == 3 and calls == ["lint"] * 4


def test_should_report_a_lint_error_as_a_finding_with_helms_message(helm, tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(CHART_DIR, chart)
    (chart / "templates" / "broken.yaml").write_text("kind: ConfigMap\nmetadata: {{ .Values.nope.deeper }}\n",
                                                     encoding="utf-8")
    timing = time_operation(helm, lint_operation("development", RenderSettings(chart=chart)), 1)
    measurement, finding = judge(timing, load_budget())
    assert finding.rule == "helm.error" and measurement.samples == 1
    assert "[ERROR] templates/" in finding.message and "nil pointer evaluating interface {}.deeper" in finding.message


# -- helm version is asked once per binary -------------------------------------------------------------


def test_should_ask_an_unchanged_helm_its_version_only_once(helm, tmp_path, monkeypatch):
    """A stub (NOT helm) that counts its calls, then runs the real helm."""
    calls = tmp_path / "calls"
    stub = tmp_path / "counting-helm-stub"
    stub.write_text(f"#!/bin/sh\necho x >> {calls}\nexec {helm.path} \"$@\"\n", encoding="utf-8")
    stub.chmod(0o755)
    monkeypatch.setattr(helm_module, "VERSION_CACHE", tmp_path / "versions.json")
    monkeypatch.setenv("HELM", str(stub))
    find = helm_module.find_helm.__wrapped__
    assert find().version == find().version == helm.version
    assert calls.read_text().count("x") == 1
    stub.write_text(stub.read_text() + "# changed\n", encoding="utf-8")  # a changed binary is asked again
    assert find().version == helm.version and calls.read_text().count("x") == 2


def test_should_run_helm_the_same_way_through_sh_and_through_a_plain_subprocess(helm, tmp_path):
    plain = dataclasses.replace(helm, through_sh=False)
    assert helm.through_sh  # the fixtures' helm goes through sh
    args = ("lint", "--strict", str(tmp_path / "no-chart"))
    messages = []
    for runner in (helm, plain):
        with pytest.raises(HelmError) as failed:
            runner.run(*args)
        messages.append(failed.value.message)
    assert messages[0] == messages[1] and "helm failed (exit 1)" in messages[0]
    assert helm.run("version", "--short").stdout == plain.run("version", "--short").stdout
