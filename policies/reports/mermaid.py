"""Mermaid `xychart-beta` bar charts for the Markdown report.

GitHub renders Mermaid in Markdown files, comments and job summaries; xychart
exists since Mermaid 10.3 and is still spelt `xychart-beta` by the 11.x
versions GitHub has bundled (a block holding just `info` shows a page's
version). The chart is horizontal so long labels stay readable, with a `line`
series at 100 for the budget. Bars at and over budget say so in their label:
Mermaid gives one colour per series, and meaning must not rest on colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.core.outcome import Outcome
from policies.reports._charts import Bar, axis_maximum, timing_bars, usage_bars

LABEL_SUFFIX = {"within": "", "at": " (at budget)", "over": " (OVER)"}


def _quoted(text: str) -> str:
    # A label is a double-quoted string in the grammar; it cannot hold a double quote.
    return '"' + text.replace('"', "'") + '"'


def _label(bar: Bar) -> str:
    scope = "" if bar.group == "pipeline" else f"{bar.group} "  # pipeline figures keep their own name
    return f"{scope}{bar.label}{LABEL_SUFFIX[bar.status]}"


def xychart(title: str, bars: Sequence[Bar], value_axis: str) -> str:
    """A fenced Mermaid block: one bar per figure (percent), and the 100 % line across all of them."""
    return "\n".join([
        "```mermaid",
        "xychart-beta horizontal",
        f"    title {_quoted(title)}",
        f"    x-axis [{', '.join(_quoted(_label(bar)) for bar in bars)}]",
        f"    y-axis {_quoted(value_axis)} 0 --> {axis_maximum(list(bars))}",
        f"    bar [{', '.join(f'{bar.percent:g}' for bar in bars)}]",
        f"    line [{', '.join('100' for _ in bars)}]",
        "```",
    ])


def budget_use_chart(outcome: Outcome) -> list[str]:
    """Lines for the head of the budget-use section: a sentence for screen readers, then the chart."""
    bars = usage_bars(outcome)
    if not bars:
        return []
    return ["_Budget use per environment and resource as a percentage of the budget; the line marks 100 %. "
            "The table below is authoritative._", "",
            xychart("Budget use (% of budget)", bars, "% of budget"), ""]


def timings_chart(outcome: Outcome) -> list[str]:
    """Lines for the head of the measurements section: the timings as a percentage of their limits."""
    bars = timing_bars(outcome)
    if not bars:
        return []
    return ["_Each timing as a percentage of its limit; the line marks 100 %. The table below is authoritative._",
            "", xychart("Timings (% of limit)", bars, "% of limit"), ""]
