"""Row builders shared by the human-readable reporters (table and Markdown)."""

from __future__ import annotations

from policies.core.findings import Finding
from policies.core.outcome import Measurement, Outcome
from policies.reports._charts import status_words

USAGE_HEADER = ("environment", "resource", "used", "budget", "use", "status")
MEASUREMENT_HEADER = ("measurement", "environment", "median", "p95", "samples", "limit", "status")
FINDING_HEADER = ("severity", "rule", "environment", "resource", "field", "expected", "actual", "fix in")


def usage_rows(outcome: Outcome) -> list[tuple[str, ...]]:
    rows = []
    for row in outcome.usage:
        kind = "request" if row["kind"] == "requests" else "limit"
        percent = f"{row['percent']:.1f} %" if row["percent"] is not None else "-"
        # At budget and over budget are marked differently, in a symbol and words (not colour alone).
        rows.append((str(row["environment"]), f"{row['name']} {kind}", str(row["actual"]), str(row["budget"]),
                     percent, status_words(row.get("status"))))
    return rows


def _figure(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:g} {unit}".strip()


def measurement_rows(measurements: list[Measurement]) -> list[tuple[str, ...]]:
    return [(m.name, m.environment or "-", _figure(m.value, m.unit), _figure(m.p95, m.unit),
             str(m.samples), _figure(m.limit, m.unit), m.status) for m in measurements]


def finding_row(finding: Finding) -> tuple[str, ...]:
    return (finding.effective_severity, finding.rule, finding.environment or "-", finding.resource or "-",
            finding.field or "-", finding.expected or "-", finding.actual or "-", finding.where or "-")


def header_line(outcome: Outcome) -> str:
    """The budget's phase and review schedule, shown above every human-readable report."""
    review = f", next budget review {outcome.next_review}" if outcome.next_review else ""
    return f"Budget phase {outcome.phase} (mode {outcome.mode}){review}"


def summary_line(outcome: Outcome) -> str:
    """One line: FAIL, WARN or PASS. Never PASS while warnings stand; a warn run says what enforcing would fail."""
    s = outcome.summary()
    counts = (f"{s['failures']} failure(s), {s['warnings']} warning(s), {s['waived']} waived "
              f"across {', '.join(s['environments'])} (mode {s['mode']}, phase {s['phase']})")
    if s["status"] == "warn" and s["would_fail"]:
        count = s["would_fail"]
        enforcing = s["enforcing_phase"] or "enforce mode"
        return f"WARN — {enforcing} would fail: {count} finding{'s' if count != 1 else ''}; {counts}"
    return f"{s['status'].upper()}: {counts}"
