"""Horizontal bar charts as inline SVG, for the HTML report.

Each bar is its own small SVG in an HTML row, so the labels are HTML text that
wraps on a phone and prints crisply, while every track shares one scale: a bar
spans `percent / axis_max` of its track and the budget line sits at
`100 / axis_max`. Over-budget bars are hatched and at-budget bars striped, and
every row says its status in words: meaning never rests on colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from policies.reports._charts import STATUS_MARK, STATUS_TEXT, Bar, axis_maximum

TRACK_UNITS = 1000  # viewBox width of a track; stretched to the track's CSS width
TRACK_HEIGHT = 24

# Fill patterns, defined once per page and referenced by id from every bar.
PATTERNS = """<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false">
<defs>
<pattern id="fill-at" width="8" height="8" patternUnits="userSpaceOnUse">
<rect width="8" height="8" class="fill-at"/><rect y="5" width="8" height="2" class="stripe"/></pattern>
<pattern id="fill-over" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="8" height="8" class="fill-over"/><rect width="3" height="8" class="stripe"/></pattern>
</defs>
</svg>"""


def _x(percent: float, axis_max: int) -> float:
    return round(min(percent, axis_max) / axis_max * TRACK_UNITS, 2)


def _fill(status: str) -> str:
    return "var(--within)" if status == "within" else f"url(#fill-{status})"


def bar_row(bar: Bar, axis_max: int) -> str:
    budget_x = _x(100, axis_max)
    words = f"{bar.label}: {bar.detail}, {bar.percent:g}% — {bar.status_text}"
    return (
        f'<li class="bar-row status-{bar.status}" data-percent="{bar.percent:g}">'
        f'<span class="bar-label">{escape(bar.label)}</span>'
        f'<svg class="track" viewBox="0 0 {TRACK_UNITS} {TRACK_HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(words)}">'
        f'<rect class="bar" x="0" y="4" width="{_x(bar.percent, axis_max)}" height="{TRACK_HEIGHT - 8}" '
        f'fill="{_fill(bar.status)}"/>'
        f'<line class="budget-line" x1="{budget_x}" x2="{budget_x}" y1="0" y2="{TRACK_HEIGHT}"/>'
        "</svg>"
        f'<span class="bar-value"><span class="mark" aria-hidden="true">{STATUS_MARK[bar.status]}</span> '
        f"<strong>{bar.percent:g}%</strong> {escape(bar.status_text)}"
        f'<span class="detail">{escape(bar.detail)}</span></span>'
        "</li>"
    )


def axis_row(axis_max: int, line_name: str) -> str:
    """Tick labels under the tracks: 0 %, the budget line, the axis end."""
    ticks = [(0, "0%"), (100, f"100% {line_name}"), (axis_max, f"{axis_max}%")]
    spans = "".join(f'<span style="left:{t / axis_max * 100:.2f}%">{escape(text)}</span>' for t, text in ticks)
    return f'<li class="bar-row axis-row" aria-hidden="true"><span></span><div class="axis">{spans}</div></li>'


def bar_chart(caption: str, bars: Sequence[Bar], line_name: str = "budget", axis_max: int | None = None,
              chart_id: str = "") -> str:
    """A figure of horizontal bars against the 100 % line; the axis is shared when `axis_max` is given."""
    axis_max = axis_max or axis_maximum(list(bars))
    rows = "".join(bar_row(bar, axis_max) for bar in bars)
    return (f'<figure class="chart" data-chart="{escape(chart_id)}" data-axis-max="{axis_max}">'
            f"<figcaption>{escape(caption)}</figcaption>"
            f'<ol class="bars">{rows}{axis_row(axis_max, line_name)}</ol></figure>')


def legend(line_name: str = "budget") -> str:
    items = "".join(
        f'<li><svg width="28" height="14" aria-hidden="true"><rect width="28" height="14" fill="{_fill(s)}"/></svg>'
        f" {STATUS_MARK[s]} {escape(text)}</li>" for s, text in STATUS_TEXT.items())
    return (f'<ul class="legend">{items}<li><svg width="14" height="14" aria-hidden="true">'
            f'<line class="budget-line" x1="7" x2="7" y1="0" y2="14"/></svg> the {escape(line_name)} (100%)</li></ul>')
