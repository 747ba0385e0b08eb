"""The budget's update schedule: `budget.review-due` when the last review is a month old or predates the phase."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from policies.checks.review import add_months, next_review, review_findings
from policies.cli import main
from policies.core.errors import InputError
from policies.core.findings import Severity, warning
from policies.docs.budgetdoc import generate, guard_arithmetic
from policies.inputs.budget import BUDGET_FILE, load_budget

D = dt.date.fromisoformat


def budget_with(tmp_path: Path, reviewed: str, started: str, every: int = 1):
    data = yaml.safe_load(BUDGET_FILE.read_text(encoding="utf-8"))
    data["review"]["reviewed"] = reviewed
    data["review"]["everyMonths"] = every
    data["phase"]["phases"][data["phase"]["current"]]["started"] = started
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_budget(path)


@pytest.mark.parametrize(("day", "months", "expected"), [
    ("2026-11-27", 1, "2026-12-27"),
    ("2026-12-15", 1, "2027-01-15"),
    ("2026-01-31", 1, "2026-02-28"),
    ("2028-01-31", 1, "2028-02-29"),
    ("2026-03-31", -1, "2026-02-28"),
    ("2026-01-10", -1, "2025-12-10"),
    ("2026-05-10", 12, "2027-05-10"),
])
def test_should_add_calendar_months_clamped_to_the_month_end(day, months, expected):
    assert add_months(D(day), months) == D(expected)


def test_should_pass_exactly_one_month_after_the_review(tmp_path):
    budget = budget_with(tmp_path, reviewed="2026-10-27", started="2026-10-01")
    assert review_findings(budget, D("2026-11-27")) == []


def test_should_warn_one_day_past_a_month(tmp_path):
    budget = budget_with(tmp_path, reviewed="2026-10-27", started="2026-10-01")
    assert review_findings(budget, D("2026-11-28")) == [warning(
        "budget.review-due",
        "the budget was last reviewed on 2026-10-27, more than a month ago (review due 2026-11-27, today "
        "2026-11-28): review it against the spec and set review.reviewed",
        expected=">= 2026-10-28 (reviewed within a month)", actual="2026-10-27", field="review.reviewed",
        file=str(budget.path), line=budget.line_of("review", "reviewed"))]


def test_should_honour_a_longer_review_interval(tmp_path):
    budget = budget_with(tmp_path, reviewed="2026-09-27", started="2026-09-01", every=2)
    assert review_findings(budget, D("2026-11-27")) == []
    assert [f.rule for f in review_findings(budget, D("2026-11-28"))] == ["budget.review-due"]


def test_should_warn_when_the_review_predates_the_current_phase(tmp_path):
    budget = budget_with(tmp_path, reviewed="2026-11-09", started="2026-11-10")
    findings = review_findings(budget, D("2026-11-11"))
    assert [(f.rule, f.severity, f.expected, f.actual) for f in findings] == [
        ("budget.review-due", Severity.WARNING, f">= 2026-11-10 (phase {budget.phase} started)", "2026-11-09")]
    assert next_review(budget) == D("2026-11-10")


def test_should_pass_a_review_on_the_day_the_phase_started(tmp_path):
    budget = budget_with(tmp_path, reviewed="2026-11-10", started="2026-11-10")
    assert review_findings(budget, D("2026-11-10")) == []
    assert next_review(budget) == D("2026-12-10")


def test_should_reject_a_date_that_is_not_a_calendar_day(tmp_path):
    with pytest.raises(InputError) as caught:
        budget_with(tmp_path, reviewed="2026-02-30", started="2026-01-01")
    assert caught.value.key == "review.reviewed"
    assert caught.value.line is not None
    assert "2026-02-30" in caught.value.message


def test_should_judge_only_the_monthly_review_when_the_phase_has_no_start_date(tmp_path):
    data = yaml.safe_load(BUDGET_FILE.read_text(encoding="utf-8"))
    data["review"]["reviewed"] = "2026-10-27"
    del data["phase"]["phases"][data["phase"]["current"]]["started"]
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    budget = load_budget(path)
    assert review_findings(budget, D("2026-11-27")) == []
    assert [f.rule for f in review_findings(budget, D("2026-11-28"))] == ["budget.review-due"]


def test_should_show_the_next_review_in_the_report_header_and_warn_through_check(tmp_path, capsys):
    budget = load_budget()
    overdue = add_months(budget.reviewed, int(budget["review"]["everyMonths"])) + dt.timedelta(days=1)
    manifests = tmp_path / "empty-ish.yaml"
    manifests.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}\n", encoding="utf-8")
    args = ["check", "--env", "development", "--manifests", str(manifests), "--timing-runs", "0"]
    code = main([*args, "--format", "json", "--today", overdue.isoformat()])
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["next_review"] == next_review(budget).isoformat()
    assert [f["severity"] for f in report["findings"] if f["rule"] == "budget.review-due"] == ["warning"]
    assert code in (0, 1)
    main([*args, "--today", budget.reviewed.isoformat()])
    table = capsys.readouterr().out
    assert table.splitlines()[0] == (f"Budget phase {budget.phase} (mode {budget.mode}), "
                                     f"next budget review {next_review(budget)}")
    assert "budget.review-due" not in table


def test_should_list_the_review_dates_in_the_budget_document(render_env):
    budget = load_budget()
    doc = generate(budget, guard_arithmetic(budget, render_env))
    assert f"Last reviewed: {budget.reviewed}; next review due: **{next_review(budget)}**" in doc
