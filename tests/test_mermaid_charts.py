"""The Markdown report's Mermaid charts, rendered by mermaid itself in headless Chromium.

mermaid is the npm package, installed into .tools/mermaid/ by `make setup`
(the version GitHub was last reported to bundle). Its ES module build loads
its diagram code as further modules, and module scripts do not load from
file://, so a loopback HTTP server serves it with a page that renders each
block; never a CDN. One browser session serves the module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from typing import Any

import pytest
from browser import chromium, console_errors, skip_unless_ci
from loopback import serve
from report_samples import sample_outcome

from policies import REPO_ROOT
from policies.cli import main
from policies.reports import markdown

MERMAID_DIST = REPO_ROOT / ".tools" / "mermaid" / "node_modules" / "mermaid" / "dist"
FENCE = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RENDER_SECONDS = 30

# Loads mermaid once; window.renderChart(text) resolves to the chart's bar and line counts or the error.
PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>mermaid</title><link rel="icon" href="data:,"></head><body><div id="out"></div>
<script type="module">
import mermaid from "/mermaid.esm.min.mjs";
mermaid.initialize({ startOnLoad: false });
let count = 0;
window.renderChart = async (text) => {
  try {
    const { svg } = await mermaid.render(`chart${++count}`, text);
    const out = document.getElementById("out");
    out.innerHTML = svg;
    const chart = out.querySelector("svg");
    const bars = [...out.querySelectorAll("[class^=bar-plot] rect")];
    const lines = [...out.querySelectorAll("[class^=line-plot] path")];
    // Horizontal chart: the value axis runs along the top, its "0" tick label centred on zero; bars
    // grow rightwards and end at their value; the line's path starts at x = 100.
    const zero = [...out.querySelectorAll(".top-axis .label text")].find(text => text.textContent === "0");
    const zeroX = zero ? parseFloat(zero.getAttribute("transform").split("(")[1]) : NaN;
    const lineX = lines.length ? parseFloat(lines[0].getAttribute("d").slice(1)) : NaN;
    const end = bar => +bar.getAttribute("x") + +bar.getAttribute("width");
    return { kind: chart.getAttribute("aria-roledescription"), error: svg.includes("Syntax error") ? svg : null,
             lines: lines.length, shares: bars.map(bar => +((end(bar) - zeroX) / (lineX - zeroX)).toFixed(2)) };
  } catch (error) {
    return { error: String(error && error.message || error) };
  }
};
</script></body></html>
"""


class MermaidFiles(SimpleHTTPRequestHandler):
    """mermaid's dist/ folder, plus the page above at /."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript"}

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        if self.path != "/":
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the http.server API)
        pass


class MermaidPage:
    """The page above in a browser: render a Mermaid text, read the console."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def render(self, text: str) -> dict[str, Any]:
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const wait = () => window.renderChart ? window.renderChart(arguments[0]).then(done)"
            "                                      : setTimeout(wait, 20);"
            "wait();", text)

    def console_errors(self) -> list[str]:
        return console_errors(self.driver)


@pytest.fixture(scope="module")
def mermaid_page() -> Iterator[MermaidPage]:
    """mermaid loaded in headless Chromium from a loopback server, for the whole module."""
    if not (MERMAID_DIST / "mermaid.esm.min.mjs").is_file():
        skip_unless_ci(f"mermaid is not installed in {MERMAID_DIST.parents[2]}; run `make setup` (needs npm)")
    handler = functools.partial(MermaidFiles, directory=str(MERMAID_DIST))
    with serve(handler) as base_url, chromium() as driver:  # type: ignore[arg-type]
        driver.set_script_timeout(RENDER_SECONDS)
        driver.get(base_url + "/")
        yield MermaidPage(driver)


def mermaid_blocks(report: str) -> list[str]:
    """The text inside each ```mermaid fence of a Markdown report."""
    return FENCE.findall(report)


def test_should_render_every_chart_of_a_check_report_with_mermaid(mermaid_page, capsys) -> None:
    main(["check", "--format", "markdown", "--timing-runs", "1"])
    blocks = mermaid_blocks(capsys.readouterr().out) + mermaid_blocks(markdown.render(sample_outcome()))
    assert len(blocks) == 4
    for block in blocks:
        values = [float(v) for v in re.search(r"^    bar \[(.*)\]$", block, re.MULTILINE).group(1).split(",")]
        # Each bar's length against the 100 % line's distance from the axis is its percentage.
        drawn = mermaid_page.render(block)
        assert (drawn["kind"], drawn["error"], drawn["lines"]) == ("xychart", None, 1)
        assert drawn["shares"] == pytest.approx([v / 100 for v in values], abs=0.015)
    assert mermaid_page.console_errors() == []


def test_should_report_what_mermaid_cannot_parse(mermaid_page) -> None:
    result = mermaid_page.render('xychart-beta horizontal\n    x-axis ["a "quoted" label"]\n    bar [1]\n')
    assert result["error"], result
