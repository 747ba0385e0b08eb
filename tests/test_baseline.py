"""Baselines: regressions flagged past the budget's growth percentages, noise below the minimum change ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import container, deployment, index

from policies.checks.baseline import (
    BASELINE_FILE,
    compare,
    load_baseline,
    rendered_totals,
    snapshot,
)
from policies.cli import main as check_main
from policies.core.errors import InputError
from policies.inputs.budget import load_budget
from policies.render.helmcalls import Operation
from policies.render.helmtimes import Timing

MB = 1_000_000


def figures_doc(**figures: float) -> dict:
    return snapshot(figures=figures)


def regressions(budget, old: dict, new: dict) -> list:
    return compare(figures_doc(**old), figures_doc(**new), budget)[1]


@pytest.mark.parametrize(("growth", "flagged"), [(1.11, True), (1.09, False)], ids=["+11%", "+9%"])
def test_should_flag_image_growth_past_ten_percent(budget, growth, flagged):
    found = regressions(budget, {"imageSizeBytes": 100 * MB}, {"imageSizeBytes": int(100 * MB * growth)})
    assert bool(found) is flagged
    if flagged:
        assert found[0].rule == "regression.image-size" and found[0].severity.value == "failure"
        assert "100 MB → 111 MB (+11 MB, +11.0%)" in found[0].message
        assert "+10%" in found[0].message


@pytest.mark.parametrize(("seconds", "flagged"), [(126, True), (124, False)], ids=["26% slower", "24% slower"])
def test_should_flag_a_build_more_than_a_quarter_slower(budget, seconds, flagged):
    found = regressions(budget, {"dockerBuildSeconds": 100}, {"dockerBuildSeconds": seconds})
    assert [f.rule for f in found] == (["regression.build-time"] if flagged else [])


def test_should_name_old_and_new_build_times_and_the_change(budget):
    [finding] = regressions(budget, {"buildPushSeconds": 100}, {"buildPushSeconds": 126})
    assert "buildPushSeconds regressed since the baseline: 100 s → 126 s (+26 s, +26.0%)" in finding.message
    assert finding.actual == "126 s (+26.0%)" and finding.file == str(BASELINE_FILE)


@pytest.mark.parametrize(("key", "old", "new"), [
    ("dockerBuildSeconds", 2.0, 2.8),       # +40 %, but under a second
    ("imageSizeBytes", 5 * MB, 5.9 * MB),   # +18 %, but under a megabyte
])
def test_should_ignore_changes_under_the_minimum_absolute_change(budget, key, old, new):
    assert regressions(budget, {key: old}, {key: new}) == []


def test_should_not_flag_a_figure_that_shrank(budget):
    assert regressions(budget, {"imageSizeBytes": 150 * MB}, {"imageSizeBytes": 100 * MB}) == []


def test_should_compare_other_stage_times_and_helm_timings_with_the_build_percentage(budget):
    def timed(seconds: float) -> Timing:
        return Timing(Operation("template", "production", ("template",)), (seconds,))

    old = snapshot(figures={"totalPipelineSeconds": 200}, timings=[timed(4.0)])
    new = snapshot(figures={"totalPipelineSeconds": 260}, timings=[timed(5.5)])
    found = compare(old, new, budget)[1]
    assert [(f.rule, f.field, f.environment) for f in found] == [
        ("regression.stage-time", "totalPipelineSeconds", None),
        ("regression.stage-time", "helm template (production)", "production"),
    ]


def test_should_leave_boot_time_to_its_absolute_alert_line(budget):
    assert regressions(budget, {"containerBootSeconds": 4}, {"containerBootSeconds": 8}) == []


def test_should_add_a_row_per_compared_ci_figure(budget):
    rows = compare(figures_doc(imageSizeBytes=100 * MB), figures_doc(imageSizeBytes=111 * MB), budget)[0]
    assert [(r.name, r.value, r.limit, r.status) for r in rows] == [("imageSizeBytes vs baseline", 111, 110, "failure")]


def test_should_ignore_figures_and_environments_only_one_side_has(budget):
    old = snapshot(figures={"imageSizeBytes": 100 * MB}, rendered={"staging": {"objects": {"Service": 1}}})
    new = snapshot(figures={"dockerBuildSeconds": 500}, rendered={"production": {"objects": {"Service": 3}}})
    assert compare(old, new, budget) == ([], [])


def test_should_warn_when_rendered_totals_change(budget):
    old = snapshot(rendered={"production": {"objects": {"Deployment": 1, "PodDisruptionBudget": 1},
                                            "requests": {"cpuMillicores": 500}}})
    new = snapshot(rendered={"production": {"objects": {"Deployment": 1, "Service": 1},
                                            "requests": {"cpuMillicores": 750}}})
    found = {f.field: f for f in compare(old, new, budget)[1]}
    assert set(found) == {"objects.PodDisruptionBudget", "objects.Service", "requests.cpuMillicores"}
    assert {f.severity.value for f in found.values()} == {"warning"}
    assert found["requests.cpuMillicores"].message == (
        "rendered requests.cpu changed since the baseline: 500m → 750m (+50.0 %); "
        "if the change is intended, accept it with `make baseline`")
    assert (found["objects.Service"].expected, found["objects.Service"].actual) == ("0 (baseline)", "1")
    assert "1 → 0 (-100.0 %)" in found["objects.PodDisruptionBudget"].message
    assert "0 → 1 (new)" in found["objects.Service"].message


def test_should_write_rendered_memory_as_a_quantity(budget):
    old = snapshot(rendered={"production": {"limits": {"memoryBytes": 2**30}}})
    new = snapshot(rendered={"production": {"limits": {"memoryBytes": 2**31}}})
    [finding] = compare(old, new, budget, "policies/baseline.json")[1]
    assert (finding.field, finding.expected, finding.actual, finding.file) == (
        "limits.memoryBytes", "1Gi (baseline)", "2Gi", "policies/baseline.json")
    assert finding.message == ("rendered limits.memory changed since the baseline: 1Gi → 2Gi (+100.0 %); "
                               "if the change is intended, accept it with `make baseline`")


def test_should_sum_requests_and_limits_at_minimum_scale():
    limited = container(resources={"requests": {"cpu": "250m", "memory": "256Mi"},
                                   "limits": {"cpu": "1", "memory": "1Gi"}})
    totals = rendered_totals(index(deployment(containers=[limited], replicas=3)))
    assert totals["requests"] == {"cpuMillicores": 750, "memoryBytes": 3 * 256 * 2**20}
    assert totals["limits"] == {"cpuMillicores": 3000, "memoryBytes": 3 * 2**30}
    assert totals["objects"] == {"Deployment": 1}


def test_should_take_the_autoscaler_minimum_when_the_deployment_leaves_replicas_out():
    workload = deployment(containers=[container(resources={"requests": {"cpu": "100m"}})])
    del workload["spec"]["replicas"]
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "pf"},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": workload["metadata"]["name"]},
                    "minReplicas": 2, "maxReplicas": 5}}
    totals = rendered_totals(index(workload, hpa))
    assert totals["requests"]["cpuMillicores"] == 200
    assert totals["objects"] == {"Deployment": 1, "HorizontalPodAutoscaler": 1}


def test_should_reject_a_baseline_of_another_version(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"version": 99}), encoding="utf-8")
    with pytest.raises(InputError, match="version 1") as caught:
        load_baseline(path)
    assert caught.value.file == str(path) and caught.value.key == "version"


def test_should_name_the_line_of_malformed_baseline_json(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text('{\n  "version": 1,\n  "figures": {,}\n}\n', encoding="utf-8")
    with pytest.raises(InputError, match="malformed JSON") as caught:
        load_baseline(path)
    assert caught.value.line == 3


def test_should_write_a_baseline_that_a_check_then_matches(tmp_path: Path, capsys):
    measurements = tmp_path / "measurements.yaml"
    measurements.write_text("imageSizeBytes: 100000000\ndockerBuildSeconds: 80\n", encoding="utf-8")
    output = tmp_path / "baseline.json"
    assert check_main(["baseline", "--output", str(output), "--measurements", str(measurements),
                       "--timing-runs", "0"]) == 0
    written = load_baseline(output)
    assert written["figures"] == {"dockerBuildSeconds": 80, "imageSizeBytes": 100000000}
    assert written["phaseStarts"] == {load_budget().phase: {"imageSizeBytes": 100000000}}
    assert set(written["rendered"]) == {"development", "staging", "production"}
    assert written["rendered"]["production"]["objects"]["Deployment"] == 1

    code = check_main(["check", "--env", "production", "--timing-runs", "0", "--format", "json", "--mode", "enforce",
                       "--measurements", str(measurements), "--baseline", str(output)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert not [f for f in report["findings"] if f["rule"].startswith("regression.")]

    measurements.write_text("imageSizeBytes: 115000000\ndockerBuildSeconds: 80\n", encoding="utf-8")
    code = check_main(["check", "--env", "production", "--timing-runs", "0", "--format", "json", "--mode", "enforce",
                       "--measurements", str(measurements), "--baseline", str(output)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [f["rule"] for f in report["findings"] if f["rule"].startswith("regression.")] == ["regression.image-size"]


def test_should_keep_the_phase_start_figures_when_the_baseline_is_refreshed(tmp_path: Path):
    output = tmp_path / "baseline.json"
    output.write_text(json.dumps(snapshot(phase_starts={"3.4.3": {"imageSizeBytes": 140_000_000}})), encoding="utf-8")
    measurements = tmp_path / "measurements.yaml"
    measurements.write_text("imageSizeBytes: 120000000\n", encoding="utf-8")
    assert check_main(["baseline", "--output", str(output), "--measurements", str(measurements),
                       "--timing-runs", "0"]) == 0
    written = load_baseline(output)
    assert written["phaseStarts"] == {"3.4.3": {"imageSizeBytes": 140_000_000}}
    assert written["figures"] == {"imageSizeBytes": 120_000_000}
