"""Terminal table: budget use per environment, measurements, then every finding."""

from __future__ import annotations

from collections.abc import Sequence

from policies.core.outcome import Outcome
from policies.reports._rows import (
    FINDING_HEADER,
    MEASUREMENT_HEADER,
    USAGE_HEADER,
    finding_row,
    header_line,
    measurement_rows,
    summary_line,
    usage_rows,
)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
             for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(outcome: Outcome) -> str:
    parts = [header_line(outcome), ""]
    if outcome.usage:
        parts += ["Budget use", format_table(USAGE_HEADER, usage_rows(outcome)), ""]
    if outcome.measurements:
        parts += ["Measurements", format_table(MEASUREMENT_HEADER, measurement_rows(outcome.measurements)), ""]
    if outcome.findings:
        parts += ["Findings", format_table(FINDING_HEADER, [finding_row(f) for f in outcome.findings])]
        for finding in outcome.findings:
            if finding.effective_severity != "waived":
                parts.append(f"  {finding.where or finding.resource or finding.environment}: "
                             f"[{finding.rule}] {finding.message}")
        parts.append("")
    parts.append(summary_line(outcome))
    return "\n".join(parts) + "\n"
