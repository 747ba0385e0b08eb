"""Markdown for a CI job summary, in the order a reader needs it.

The verdict first, then the findings (where to fix each, with a link to the
line, and any waiver's reason and expiry), then budget use with over-budget
rows marked, then measurements. Each section is its own function so another
section (a chart, say) slots in without touching the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from policies.core.findings import Finding
from policies.core.outcome import Outcome
from policies.reports._rows import (
    MEASUREMENT_HEADER,
    USAGE_HEADER,
    header_line,
    measurement_rows,
    summary_line,
    usage_rows,
)
from policies.reports.mermaid import budget_use_chart, timings_chart

FINDINGS_HEADER = ("severity", "rule", "environment", "resource", "field", "expected", "actual", "fix in", "message",
                   "waiver")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def file_link(finding: Finding) -> str:
    """`[path:line](…#Lline)`: to the commit on GitHub when the run says which, else repo-relative.

    Files outside the repository (an absolute path, such as a temporary overlay)
    have nowhere to link to and are shown as text.
    """
    if not finding.file:
        return "-"
    if PurePosixPath(finding.file).is_absolute():
        return finding.where
    anchor = f"#L{finding.line}" if finding.line else ""
    server, repository, sha = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    base = f"{server}/{repository}/blob/{sha}/" if server and repository and sha else ""
    return f"[{finding.where}]({base}{finding.file}{anchor})"


def waiver_text(finding: Finding) -> str:
    if not finding.waived_by:
        return "-"
    return f"{finding.waiver_reason} (expires {finding.waiver_expires})"


def verdict(outcome: Outcome) -> list[str]:
    return ["# Performance budget check", "", f"**{summary_line(outcome)}**", "", header_line(outcome), ""]


def findings(outcome: Outcome) -> list[str]:
    if not outcome.findings:
        return ["## Findings", "", "No findings.", ""]
    rows = [(f.effective_severity, f.rule, f.environment or "-", f.resource or "-", f.field or "-",
             f.expected or "-", f.actual or "-", file_link(f), f.message, waiver_text(f)) for f in outcome.findings]
    return ["## Findings", "", md_table(FINDINGS_HEADER, rows), ""]


def budget_use(outcome: Outcome) -> list[str]:
    if not outcome.usage:
        return []
    rows = []
    for usage, row in zip(outcome.usage, usage_rows(outcome), strict=True):
        # The status cell says over, at or within budget; over is also bold. From the exact status, not the
        # rounded percent (1Gi + 1 byte shows 100.0 % and is over).
        rows.append((*row[:-1], f"**{row[-1]}**") if usage.get("status") == "over" else row)
    return ["## Budget use", "", *budget_use_chart(outcome), md_table(USAGE_HEADER, rows), ""]


def measurements(outcome: Outcome) -> list[str]:
    if not outcome.measurements:
        return []
    return ["## Measurements", "", *timings_chart(outcome),
            md_table(MEASUREMENT_HEADER, measurement_rows(outcome.measurements)), ""]


SECTIONS: tuple[Callable[[Outcome], list[str]], ...] = (verdict, findings, budget_use, measurements)


def render(outcome: Outcome) -> str:
    return "\n".join(line for section in SECTIONS for line in section(outcome))
