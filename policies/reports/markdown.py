"""Markdown for a CI job summary."""

from __future__ import annotations

from collections.abc import Sequence

from policies.outcome import Outcome
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render(outcome: Outcome) -> str:
    parts = ["# Performance budget check", "", f"**{summary_line(outcome)}**", "", header_line(outcome), ""]
    if outcome.usage:
        parts += ["## Budget use", "", md_table(USAGE_HEADER, usage_rows(outcome)), ""]
    if outcome.measurements:
        parts += ["## Measurements", "", md_table(MEASUREMENT_HEADER, measurement_rows(outcome.measurements)), ""]
    parts += ["## Findings", ""]
    if outcome.findings:
        parts += [md_table((*FINDING_HEADER, "message"),
                           [(*finding_row(f), f.message) for f in outcome.findings]), ""]
    else:
        parts += ["No findings.", ""]
    return "\n".join(parts)
