"""Phase targets: 3.4.4's "reduce image size by 20 %" judged against the image recorded when 3.4.3 started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from policies.checks.phasetarget import RECORD_COMMAND, image_targets, judge_image_targets, record_phase_start
from policies.cli import main as check_main
from policies.core.findings import Severity
from policies.docs.budgetdoc import generate, guard_arithmetic
from policies.inputs.budget import BUDGET_FILE, load_budget

MB = 1_000_000
BASELINE = "policies/baseline.json"


def budget_in_phase(tmp_path: Path, phase: str):
    data = yaml.safe_load(BUDGET_FILE.read_text(encoding="utf-8"))
    data["phase"]["current"] = phase
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_budget(path)


def started_at(image_bytes: float) -> dict:
    return {"phaseStarts": {"3.4.3": {"imageSizeBytes": image_bytes}}}


def judged(budget, image_bytes: float, start_bytes: float = 140 * MB):
    return judge_image_targets(budget, started_at(start_bytes), {"imageSizeBytes": image_bytes}, BASELINE)


def test_should_read_the_target_and_its_reference_phase_from_the_budget(budget):
    percent = budget["phase"]["phases"]["3.4.4"]["imageSizeReductionPercent"]
    assert image_targets(budget) == [("3.4.4", "3.4.3", float(percent))]


def test_should_show_progress_as_a_warning_while_the_target_phase_is_next(tmp_path):
    budget = budget_in_phase(tmp_path, "3.4.3")
    rows, findings = judged(budget, 140 * MB)
    assert [(f.rule, f.severity, f.message, f.expected, f.actual, f.field, f.file) for f in findings] == [(
        "pipeline.phase-target", Severity.WARNING,
        "image 140 MB; 3.4.4 target 112 MB, 80 % of the 3.4.3 baseline 140 MB: 28 MB to go",
        "<= 112 MB (80 % of 140 MB)", "140 MB", "phaseStarts.3.4.3.imageSizeBytes", BASELINE)]
    assert [(r.name, r.value, r.limit, r.status) for r in rows] == [("image vs 3.4.4 target", 140.0, 112.0, "warning")]


def test_should_fail_an_image_over_the_target_once_the_phase_is_in_force(tmp_path):
    budget = budget_in_phase(tmp_path, "3.4.4")
    _, findings = judged(budget, 112 * MB + 1)
    assert [(f.rule, f.severity, f.actual) for f in findings] == [
        ("pipeline.phase-target", Severity.FAILURE, "112 MB")]
    assert findings[0].message.endswith("0 MB to go")


@pytest.mark.parametrize("phase", ["3.4.3", "3.4.4", "4.0"])
def test_should_pass_an_image_exactly_at_the_target(tmp_path, phase):
    rows, findings = judged(budget_in_phase(tmp_path, phase), 112 * MB)
    assert findings == [] and [r.status for r in rows] == ["ok"]


def test_should_keep_judging_the_target_in_later_phases(tmp_path):
    _, findings = judged(budget_in_phase(tmp_path, "4.0"), 113 * MB)
    assert [(f.rule, f.severity) for f in findings] == [("pipeline.phase-target", Severity.FAILURE)]


def test_should_say_the_target_is_unknown_without_a_recorded_start_and_name_the_command(tmp_path):
    budget = budget_in_phase(tmp_path, "3.4.3")
    rows, findings = judge_image_targets(budget, {"figures": {}}, {"imageSizeBytes": 140 * MB}, BASELINE)
    assert rows == []
    assert [(f.severity, f.actual) for f in findings] == [(Severity.WARNING, "unknown")]
    assert findings[0].message == ("phase 3.4.4 image target unknown: the baseline records no image size for the "
                                   f"start of phase 3.4.3; record it with `{RECORD_COMMAND}`")


def test_should_fail_an_unknown_target_once_it_is_in_force(tmp_path):
    _, findings = judge_image_targets(budget_in_phase(tmp_path, "3.4.4"), {}, {}, BASELINE)
    assert [(f.severity, f.actual) for f in findings] == [(Severity.FAILURE, "unknown")]


def test_should_fall_back_to_the_baselines_latest_image_figure(tmp_path):
    baseline = {**started_at(140 * MB), "figures": {"imageSizeBytes": 120 * MB}}
    _, findings = judge_image_targets(budget_in_phase(tmp_path, "3.4.3"), baseline, {}, BASELINE)
    assert [f.actual for f in findings] == ["120 MB"]


def test_should_record_a_phase_start_once_and_keep_it_across_refreshes():
    first = record_phase_start(None, "3.4.3", {"imageSizeBytes": 140 * MB})
    assert first == {"3.4.3": {"imageSizeBytes": 140 * MB}}
    refreshed = record_phase_start({"phaseStarts": first}, "3.4.3", {"imageSizeBytes": 120 * MB})
    assert refreshed == first
    later = record_phase_start({"phaseStarts": first}, "3.4.4", {"imageSizeBytes": 110 * MB})
    assert later == {"3.4.3": {"imageSizeBytes": 140 * MB}, "3.4.4": {"imageSizeBytes": 110 * MB}}
    assert record_phase_start(None, "3.4.3", {}) == {}


def test_should_judge_the_target_through_check_with_a_baseline_and_measurements(tmp_path, capsys):
    baseline = json.loads(Path(BASELINE).read_text(encoding="utf-8")) | started_at(140 * MB)
    (tmp_path / "baseline.json").write_text(json.dumps(baseline), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(f"imageSizeBytes: {113 * MB}\n", encoding="utf-8")
    code = check_main(["check", "--env", "development", "--format", "json", "--timing-runs", "0", "--mode", "enforce",
                       "--baseline", str(tmp_path / "baseline.json"), "--measurements", str(tmp_path / "m.yaml"),
                       "--budget", str(budget_in_phase(tmp_path, "3.4.4").path)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["rule"], f["severity"], f["actual"]) for f in report["findings"]
            if f["rule"] == "pipeline.phase-target"] == [("pipeline.phase-target", "failure", "113 MB")]


def test_should_list_each_phases_targets_in_the_budget_document(budget, render_env):
    doc = generate(budget, guard_arithmetic(budget, render_env))
    assert "| 3.4.4 | enforce | - | image at most 80 % of the image size recorded when phase 3.4.3 started" in doc
    assert "| 4.0 | enforce | - | P95 under load < 100 ms" in doc
