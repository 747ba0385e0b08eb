"""A picture of the dashboard's layout (docs/dashboard.svg), drawn from the chart's files/dashboard.json.

Written by `python -m policies docs` (`make docs`; --check: exit 1 when stale).

Each panel is drawn where its gridPos puts it on Grafana's 24-column grid, with
its title, unit, the chart queries it shows and its threshold line, so a reader
of the README sees what the dashboard shows without a Grafana to open it in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from policies import REPO_ROOT
from policies.core.atomic import sync_generated
from policies.docs.dashboard import DASHBOARD_FILE, GRID_COLUMNS, METRICS_PREFIX, QUERY_TOKEN

SVG_FILE = REPO_ROOT / "docs" / "dashboard.svg"
COLUMN_PX, ROW_PX, GAP_PX, MARGIN_PX, HEADER_PX = 40, 30, 6, 12, 34
UNITS = {"percent": "%", "s": "s", "bytes": "bytes", "short": ""}


def _threshold(panel: dict[str, Any]) -> float | None:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    values = [s["value"] for s in steps if s.get("value") is not None]
    return values[0] if values else None


def _query_names(panel: dict[str, Any]) -> list[str]:
    prefix, suffix = QUERY_TOKEN.split("{}")
    return [t["expr"].removeprefix(prefix).removesuffix(suffix) for t in panel.get("targets", [])]


def _amount(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:g} ms"
    symbol = UNITS.get(unit, unit)
    return f"{value:g} {symbol}".strip() if symbol != "%" else f"{value:g} %"


def _panel(panel: dict[str, Any]) -> list[str]:
    grid = panel["gridPos"]
    x = MARGIN_PX + grid["x"] * COLUMN_PX
    y = HEADER_PX + MARGIN_PX + grid["y"] * ROW_PX
    w, h = grid["w"] * COLUMN_PX - GAP_PX, grid["h"] * ROW_PX - GAP_PX
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    metrics_only = panel["title"].startswith(METRICS_PREFIX)
    parts = [f'<g class="panel"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" '
             f'fill="{"#f4f4fb" if metrics_only else "#f7f9fb"}" stroke="#8a94a6"/>',
             f'<text x="{x + 10}" y="{y + 20}" font-size="14" font-weight="bold">{escape(panel["title"])}</text>']
    note = f"unit {UNITS.get(unit, unit) or 'count'}" + (" · development only (metrics on)" if metrics_only else "")
    parts.append(f'<text x="{x + 10}" y="{y + 38}" font-size="11" fill="#555">{escape(note)}</text>')
    for i, name in enumerate(_query_names(panel)):
        parts.append(f'<text x="{x + 10}" y="{y + 56 + 14 * i}" font-size="11" fill="#1f60c4">'
                     f'query {escape(name)}</text>')
    line = _threshold(panel)
    if line is not None:
        line_y = y + h * 0.45
        parts += [f'<line x1="{x + 8}" y1="{line_y:.0f}" x2="{x + w - 8}" y2="{line_y:.0f}" stroke="#d44a3a" '
                  'stroke-width="2" stroke-dasharray="8 5"/>',
                  f'<text x="{x + w - 10}" y="{line_y - 6:.0f}" font-size="12" fill="#d44a3a" text-anchor="end">'
                  f'budget {escape(_amount(line, unit))}</text>']
    parts.append("</g>")
    return parts


def render_svg(dashboard: dict[str, Any]) -> str:
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    width = 2 * MARGIN_PX + GRID_COLUMNS * COLUMN_PX
    height = HEADER_PX + 2 * MARGIN_PX + rows * ROW_PX
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">',
             "<!-- Generated from charts/prompted-forge-mcp/files/dashboard.json by "
             "`python -m policies docs`; do not edit. -->",
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             f'<text x="{MARGIN_PX}" y="{MARGIN_PX + 16}" font-size="16" font-weight="bold">Grafana dashboard '
             f'layout: {len(panels)} panels, dashed lines from policies/budget.yaml</text>']
    for panel in panels:
        lines += _panel(panel)
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def generate(dashboard_file: Path = DASHBOARD_FILE) -> str:
    return render_svg(json.loads(dashboard_file.read_text(encoding="utf-8")))


def sync(check: bool = False) -> int:
    """Rewrite the generated file (check: only report whether the committed one is stale; 1 when it is)."""
    return sync_generated(SVG_FILE, generate(), check, str(SVG_FILE.relative_to(REPO_ROOT)))
