"""One self-contained HTML page: the verdict, the findings, budget use and timings as charts.

Inline CSS and inline SVG only: no script, nothing fetched (the page's
Content-Security-Policy forbids both), so it opens the same from a CI
artifact, a mail attachment or a laptop with no network. It shows what the
Markdown report shows; the tables stay below the charts for screen readers
and copy-paste.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from policies.core.outcome import Outcome
from policies.reports import svgbars
from policies.reports._charts import Bar, axis_maximum, timing_bars, usage_bars
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

SEVERITY_MARK = {"failure": "\u2717", "warning": "!", "waived": "\u2013"}  # ✗ ! –
VERDICT_MARK = {"pass": "\u2713", "warn": "!", "fail": "\u2717"}
# Okabe-Ito colours, told apart by the common colour-vision deficiencies; patterns and words carry
# the same meaning for anyone who cannot tell them apart at all.
STYLE = """
:root { --ink: #1b1b1b; --muted: #555; --rule: #d0d0d0; --paper: #fff; --band: #f4f4f4;
  --within: #0072b2; --at: #e69f00; --over: #d55e00; --pass: #009e73; --fail: #d55e00; --warn: #e69f00;
  font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; color: var(--ink);
  background: var(--paper); -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.25rem 3rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: .25rem 0 .75rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
.verdict { display: flex; gap: .75rem; align-items: center; padding: .75rem 1rem; border-radius: .4rem;
  border: 2px solid var(--verdict); background: color-mix(in srgb, var(--verdict) 10%, white); }
.verdict .mark { font-size: 1.6rem; font-weight: 700; color: var(--verdict); }
.verdict-pass { --verdict: var(--pass); } .verdict-fail { --verdict: var(--fail); }
.verdict-warn { --verdict: var(--warn); } .verdict-error { --verdict: var(--fail); }
pre.error { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--band); padding: .75rem; }
.phase { margin: .5rem 0 0; color: var(--muted); }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; margin: .75rem 0 0; }
nav a { color: var(--within); }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .875rem; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--band); }
td { overflow-wrap: anywhere; }  /* long field paths and file names wrap instead of widening the table */
tr.status-over td, tr.severity-failure td { background: color-mix(in srgb, var(--over) 12%, white); }
tr.status-at td, tr.severity-warning td { background: color-mix(in srgb, var(--at) 12%, white); }
tr.status-over td:first-child, tr.severity-failure td:first-child { border-left: 4px solid var(--over); }
tr.status-at td:first-child, tr.severity-warning td:first-child { border-left: 4px dashed var(--at); }
.chart { margin: .75rem 0 1.25rem; break-inside: avoid; }
.chart figcaption { font-weight: 600; margin-bottom: .25rem; }
.bars { list-style: none; margin: 0; padding: 0; }
.bar-row { display: grid; grid-template-columns: minmax(7rem, 12rem) minmax(8rem, 1fr) minmax(12rem, 17rem);
  gap: .25rem .75rem; align-items: center; padding: .1rem 0; }
.track { display: block; width: 100%; height: 24px; background: var(--band); }
.bar { stroke: var(--ink); stroke-width: 1; vector-effect: non-scaling-stroke; }
.budget-line { stroke: var(--ink); stroke-width: 2; stroke-dasharray: 4 2; vector-effect: non-scaling-stroke; }
.fill-at { fill: var(--at); } .fill-over { fill: var(--over); } .stripe { fill: #fff; opacity: .55; }
.bar-value { font-size: .875rem; }
.bar-value .detail { display: block; color: var(--muted); font-size: .8rem; }
.status-over .bar-value strong, .status-over .mark { color: var(--over); }
.axis-row { padding-top: 0; }
.axis { position: relative; height: 1.2rem; font-size: .75rem; color: var(--muted); }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; } .axis span:last-child { transform: translateX(-100%); }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; padding: 0; font-size: .875rem; }
.legend svg { vertical-align: middle; }
.defs { position: absolute; }
footer { margin-top: 2rem; color: var(--muted); font-size: .8rem; }
@media (max-width: 40rem) {
  body { padding: .75rem; }
  .bar-row { grid-template-columns: 1fr; gap: .1rem; padding: .35rem 0; }
  .axis-row > span:first-child { display: none; }
  table, tbody, tr, td { display: block; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  tr { border-bottom: 1px solid var(--rule); padding: .3rem 0; }
  td { border: 0; padding: .05rem .5rem .05rem 8.5rem; position: relative; }
  td code { overflow-wrap: anywhere; }
  td::before { content: attr(data-label); color: var(--muted); position: absolute; left: .5rem; width: 7.5rem; }
  tr.status-over td:first-child, tr.severity-failure td:first-child,
  tr.status-at td:first-child, tr.severity-warning td:first-child { border-left: 0; }
  tr.status-over, tr.severity-failure { border-left: 4px solid var(--over); }
  tr.status-at, tr.severity-warning { border-left: 4px dashed var(--at); }
}
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  .bar-row { grid-template-columns: 9rem 1fr 13rem; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
}
"""
# Nothing loads, nothing runs: the page is data only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Sequence[str] = ()) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = []
    for index, row in enumerate(rows):
        css = f' class="{row_classes[index]}"' if index < len(row_classes) and row_classes[index] else ""
        # data-label: on a phone each row becomes a card of "header: value" lines.
        body.append(f"<tr{css}>" + "".join(f'<td data-label="{escape(h)}">{cell}</td>'
                                           for h, cell in zip(header, row, strict=True)) + "</tr>")
    return (f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _text_cells(row: Sequence[str]) -> list[str]:
    return [escape(str(cell)) for cell in row]


def _verdict(outcome: Outcome) -> str:
    line = summary_line(outcome)
    word = str(outcome.summary()["status"])  # pass, warn or fail
    mark = VERDICT_MARK.get(word, "!")
    return (f'<div class="verdict verdict-{escape(word)}" role="status"><span class="mark" aria-hidden="true">'
            f"{mark}</span><strong>{escape(line)}</strong></div>")


def _findings(outcome: Outcome) -> str:
    if not outcome.findings:
        return "<p>No findings.</p>"
    rows, classes = [], []
    for finding in outcome.findings:
        cells = _text_cells(finding_row(finding))
        severity = finding.effective_severity
        cells[0] = f'<span aria-hidden="true">{SEVERITY_MARK.get(severity, "")}</span> {cells[0]}'
        cells[7] = f"<code>{cells[7]}</code>" if finding.where else cells[7]
        waiver = f"{finding.waiver_reason} (expires {finding.waiver_expires})" if finding.waived_by else "-"
        rows.append([*cells, escape(finding.message), escape(waiver)])
        classes.append(f"severity-{severity}")
    return _table((*FINDING_HEADER, "message", "waiver"), rows, classes)


def _budget_use(outcome: Outcome) -> str:
    bars = usage_bars(outcome)
    axis_max = axis_maximum(bars)  # one scale for every environment, so their bars compare
    charts = [svgbars.bar_chart(env, [b for b in bars if b.group == env], axis_max=axis_max, chart_id=f"usage-{env}")
              for env in dict.fromkeys(b.group for b in bars)]
    statuses = [row.get("status") for row in outcome.usage]
    rows = [_text_cells(row) for row in usage_rows(outcome)]
    return ('<section id="budget-use"><h2>Budget use</h2>'
            "<p>Requests and limits summed over each workload's containers, as a percentage of the "
            "environment's budget.</p>"
            + (svgbars.legend() if bars else "") + "".join(charts)
            + _table(USAGE_HEADER, rows, [f"status-{s}" if s else "" for s in statuses])
            + "</section>")


def _measurements(outcome: Outcome) -> str:
    bars = timing_bars(outcome)
    # One chart for every scope; a figure of no single environment keeps its own name.
    labelled = [Bar(b.group, b.label if b.group == "pipeline" else f"{b.group} · {b.label}", b.percent, b.status,
                    b.detail) for b in bars]
    chart = svgbars.bar_chart("Timings against their limits", labelled, line_name="limit", chart_id="timings")
    rows = measurement_rows(outcome.measurements)
    classes = [{"failure": "status-over", "warning": "status-at"}.get(m.status, "") for m in outcome.measurements]
    return ('<section id="measurements"><h2>Measurements</h2>'
            + (svgbars.legend("limit") + chart if bars else "")
            + _table(MEASUREMENT_HEADER, [_text_cells(r) for r in rows], classes) + "</section>")


def _baseline(outcome: Outcome) -> str:
    rows, classes = [], []
    for row in outcome.baseline_totals:
        changed = row["baseline"] != row["current"]
        change = "\u2260 changed" if changed else "= same"  # ≠ =
        rows.append([*_text_cells((row["environment"], row["figure"], row["baseline"], row["current"])),
                     escape(change)])
        classes.append("status-at" if changed else "")
    return ('<section id="baseline"><h2>Rendered totals against the baseline</h2>'
            "<p>Objects rendered and requests/limits summed at minimum scale, in the baseline and in this run. "
            "A change is reported as a warning; <code>make baseline</code> accepts an intended one.</p>"
            + _table(("environment", "figure", "baseline", "this run", "change"), rows, classes) + "</section>")


def _page(title_word: str, header: str, main: str, footer: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{escape(title_word)} · Performance budget check</title>
<style>{STYLE}</style>
</head>
<body>
{svgbars.PATTERNS}
<header>
<h1>Performance budget check</h1>
{header}
</header>
<main>
{main}
</main>
<footer>{footer}</footer>
</body>
</html>
"""


def render(outcome: Outcome) -> str:
    sections = [("findings", "Findings", f'<section id="findings"><h2>Findings</h2>{_findings(outcome)}</section>')]
    if outcome.usage:
        sections.append(("budget-use", "Budget use", _budget_use(outcome)))
    if outcome.measurements:
        sections.append(("measurements", "Measurements", _measurements(outcome)))
    if outcome.baseline_totals:
        sections.append(("baseline", "Against the baseline", _baseline(outcome)))
    nav = "".join(f'<li><a href="#{anchor}">{escape(title)}</a></li>' for anchor, title, _ in sections)
    header = (f'{_verdict(outcome)}\n<p class="phase">{escape(header_line(outcome))}</p>\n'
              f'<nav aria-label="sections"><ul>{nav}</ul></nav>')
    footer = (f"Environments: {escape(', '.join(outcome.environments))}. The tables are authoritative; the charts "
              "show the same figures.")
    return _page(str(outcome.summary()["status"]).upper(), header, "".join(body for _, _, body in sections), footer)


def error_page(headline: str, detail: str) -> str:
    """The page of a run that stopped before judging anything (bad input, exit 2): no verdict, the error."""
    header = (f'<div class="verdict verdict-error" role="alert"><span class="mark" aria-hidden="true">'
              f"{VERDICT_MARK['fail']}</span><strong>{escape(headline)}</strong></div>")
    return _page("ERROR", header, f"<pre class=\"error\">{escape(detail)}</pre>",
                 "Fix the input named above and run the check again.")
