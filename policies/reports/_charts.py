"""What the reports chart: budget use and timings as a percentage of their limit.

The figures come from the Outcome as judged; a chart only shows them. The
Markdown report draws them with Mermaid, the HTML report as inline SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from policies.core.outcome import Measurement, Outcome

# Words beside each mark, so meaning never rests on colour alone.
STATUS_TEXT = {"within": "within budget", "at": "at budget", "over": "over budget"}
STATUS_MARK = {"within": "\u2713", "at": "=", "over": "\u25b2"}  # ✓ = ▲


def status_words(status: str | None) -> str:
    """'▲ over budget', '= at budget', '✓ within budget'; '-' when the budget sets no figure."""
    return f"{STATUS_MARK[status]} {STATUS_TEXT[status]}" if status else "-"


@dataclass(frozen=True)
class Bar:
    group: str  # the environment, or the scope of a figure that belongs to none
    label: str  # "cpu limit", "helm lint"
    percent: float  # of the budget or limit
    status: str  # within | at | over
    detail: str  # "250m of 250m", "0.114 s of 5 s"

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]


def usage_bars(outcome: Outcome) -> list[Bar]:
    """A bar per environment, resource and kind that has a budget figure."""
    bars = []
    for row in outcome.usage:
        if row.get("percent") is None or row.get("status") is None:
            continue
        kind = "request" if row["kind"] == "requests" else "limit"
        bars.append(Bar(str(row["environment"]), f"{row['name']} {kind}", float(row["percent"]),
                        str(row["status"]), f"{row['actual']} of {row['budget']}"))
    return bars


def _timing_status(measurement: Measurement) -> str:
    if measurement.status == "failure" or (measurement.limit is not None and measurement.value > measurement.limit):
        return "over"
    return "at" if measurement.value == measurement.limit else "within"


def is_timing(measurement: Measurement) -> bool:
    """A time judged against a limit; comparisons with the baseline are growth limits, not budgets."""
    return (measurement.unit == "s" and bool(measurement.limit)
            and not (measurement.rule or "").startswith("regression."))


def timing_bars(outcome: Outcome) -> list[Bar]:
    """A bar per timing that has a limit: helm lint/template/package, the helm stage, CI's seconds."""
    bars = []
    for m in outcome.measurements:
        if not is_timing(m):
            continue
        limit = float(m.limit or 0)  # is_timing: a limit above zero
        p95 = f", p95 {m.p95:g} s" if m.p95 is not None and m.samples > 1 else ""
        bars.append(Bar(m.environment or "pipeline", m.name, round(m.value / limit * 100, 1), _timing_status(m),
                        f"{m.value:g} s of {limit:g} s{p95}"))
    return bars


def axis_maximum(bars: list[Bar], step: int = 25) -> int:
    """The axis end: past the largest bar and past the 100 % line, on a round step."""
    largest = max([100.0, *(b.percent for b in bars)])
    return int(math.floor(largest / step) + 1) * step
