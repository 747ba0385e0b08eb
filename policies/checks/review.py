"""The budget's update schedule: reviewed every `review.everyMonths` and again once a new phase starts.

The spec asks for a review "monthly during active development" and "after each
major phase completion". Both are data in policies/budget.yaml (`review.reviewed`,
`review.everyMonths`, each phase's `started`), so a run can tell when the budget
is overdue. The finding is a warning: an old budget is a reason to look, never
a reason to stop a deploy.
"""

from __future__ import annotations

import calendar
import datetime as dt

from policies.core.findings import Finding, Severity, warning
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import Budget

RULES = declare(
    Rule("budget.review-due", "policies/budget.yaml was last reviewed more than review.everyMonths ago, "
                              "or before the phase in force started",
         spec="Implementation Notes / Update Schedule", severity=Severity.WARNING),
)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28 or 29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(budget: Budget) -> dt.date:
    """When the budget is next due: a month after the last review, or now if that review predates the phase."""
    started = budget.phase_started()
    if started is not None and budget.reviewed < started:
        return started
    return add_months(budget.reviewed, int(budget["review"]["everyMonths"]))


def review_findings(budget: Budget, today: dt.date) -> list[Finding]:
    """A `budget.review-due` warning when the last review is overdue on `today` or predates the phase."""
    reviewed, every = budget.reviewed, int(budget["review"]["everyMonths"])
    started = budget.phase_started()
    where = {"file": str(budget.path), "line": budget.line_of("review", "reviewed"), "field": "review.reviewed",
             "actual": reviewed.isoformat()}
    if started is not None and reviewed < started:
        return [warning("budget.review-due",
                        f"the budget was last reviewed on {reviewed}, before phase {budget.phase} started on "
                        f"{started}: review it for the new phase and set review.reviewed",
                        expected=f">= {started} (phase {budget.phase} started)", **where)]
    due = add_months(reviewed, every)
    if today > due:
        months = "a month" if every == 1 else f"{every} months"
        return [warning("budget.review-due",
                        f"the budget was last reviewed on {reviewed}, more than {months} ago (review due {due}, "
                        f"today {today}): review it against the spec and set review.reviewed",
                        expected=f">= {add_months(today, -every)} (reviewed within {months})", **where)]
    return []
