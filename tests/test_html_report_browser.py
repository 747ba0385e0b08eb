"""The HTML report in headless Chromium: no console errors, bars as wide as their figures, phone and A4 layouts.

One browser session serves the module (the machine has 2 cores). Widths are
read from the DOM by the browser, as laid out, not parsed from the HTML here.
Every run keeps a screenshot of the real check page in reports/check.png (a CI
artifact); `make screenshot` (UPDATE_SCREENSHOT=1) also refreshes the README's
docs/report.png.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, console_errors, full_page_png, set_viewport
from report_samples import sample_outcome

from policies import REPO_ROOT
from policies.cli import main
from policies.inputs.budget import load_budget
from policies.reports import html

SCREENSHOT = REPO_ROOT / "reports" / "check.png"
README_SCREENSHOT = REPO_ROOT / "docs" / "report.png"
README_VIEWPORT = (1200, 1400)
PHONE_WIDTH = 375
A4_PRINTABLE_WIDTH = round((210 - 2 * 12) / 25.4 * 96)  # CSS px inside the page's 12 mm margins
TOLERANCE_PX = 1.5

# The sample's bars as laid out: chart -> [(percent, status)], and each chart's axis end.
EXPECTED_BARS = {
    "usage-development": [(50, "within"), (100, "at")],
    "usage-production": [(130, "over"), (100, "at")],
    "timings": [(50, "within"), (100, "at"), (120, "over")],
}
AXIS_END = {"usage-development": 150, "usage-production": 150, "timings": 125}

READ_BARS = """
return [...document.querySelectorAll('figure.chart')].map(figure => ({
  chart: figure.dataset.chart,
  bars: [...figure.querySelectorAll('li.bar-row:not(.axis-row)')].map(row => {
    const track = row.querySelector('svg.track').getBoundingClientRect();
    const bar = row.querySelector('rect.bar').getBoundingClientRect();
    const line = row.querySelector('line.budget-line').getBoundingClientRect();
    const label = row.querySelector('.bar-label').getBoundingClientRect();
    return {status: row.className.replace('bar-row status-', ''), track: track.width, bar: bar.width,
            line: line.left + line.width / 2 - track.left, labelBottom: label.bottom, trackTop: track.top};
  }),
}));
"""
PAGE_WIDTH = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("html") / "sample.html"
    page.write_text(html.render(sample_outcome()), encoding="utf-8")
    return page


def keep(path: Path, png: bytes) -> None:
    """Write the PNG whole or not at all (a half-written one would be uploaded as the artifact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(png)
    partial.replace(path)


def load(driver: Any, page: Path, width: int = 1200, **viewport: Any) -> None:
    set_viewport(driver, width, **viewport)
    driver.get(page.as_uri())


def test_should_render_the_check_page_without_console_errors_and_keep_a_screenshot(browser, tmp_path) -> None:
    page = tmp_path / "check.html"
    code = main(["check", "--format", "html", "--output", str(page), "--timing-runs", "1",
                 "--baseline", str(REPO_ROOT / "policies" / "baseline.json")])
    assert code in (0, 1)
    load(browser, page)
    assert console_errors(browser) == []
    charts = browser.execute_script("return [...document.querySelectorAll('figure.chart')].map(f => f.dataset.chart)")
    assert charts == [f"usage-{env}" for env in load_budget().environments] + ["timings"]
    png = full_page_png(browser, 1200)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    keep(SCREENSHOT, png)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        set_viewport(browser, *README_VIEWPORT)  # the top of the page: verdict, findings, budget use
        keep(README_SCREENSHOT, browser.get_screenshot_as_png())


def test_should_see_console_errors_when_a_page_breaks_its_policy(browser, tmp_path) -> None:
    page = tmp_path / "broken.html"
    # The report's own policy blocks the image before any request leaves the browser.
    page.write_text(html.render(sample_outcome()).replace("</main>", '<img src="http://127.0.0.1:9/x.png"></main>'),
                    encoding="utf-8")
    load(browser, page)
    [error] = console_errors(browser)
    assert "Content Security Policy" in error and "127.0.0.1:9/x.png" in error


def test_should_draw_each_bar_as_wide_as_its_share_of_the_axis(browser, sample_page) -> None:
    load(browser, sample_page)
    assert console_errors(browser) == []
    charts = {chart["chart"]: chart["bars"] for chart in browser.execute_script(READ_BARS)}
    assert {name: [b["status"] for b in bars] for name, bars in charts.items()} == {
        name: [status for _, status in bars] for name, bars in EXPECTED_BARS.items()}
    for name, bars in charts.items():
        for drawn, (percent, _) in zip(bars, EXPECTED_BARS[name], strict=True):
            assert drawn["bar"] == pytest.approx(drawn["track"] * percent / AXIS_END[name], abs=TOLERANCE_PX)
            assert drawn["line"] == pytest.approx(drawn["track"] * 100 / AXIS_END[name], abs=TOLERANCE_PX)
    # The environments share one scale: production's 130 % bar is 2.6 times development's 50 % bar.
    over, within = charts["usage-production"][0]["bar"], charts["usage-development"][0]["bar"]
    assert over / within == pytest.approx(130 / 50, rel=0.01)


def test_should_fit_a_phone_screen_with_labels_above_the_bars(browser, sample_page) -> None:
    load(browser, sample_page, PHONE_WIDTH, mobile=True)
    scroll_width, client_width = browser.execute_script(PAGE_WIDTH)
    assert (client_width, scroll_width) == (PHONE_WIDTH, PHONE_WIDTH)  # the page itself never scrolls sideways
    for chart in browser.execute_script(READ_BARS):
        for bar in chart["bars"]:
            assert bar["labelBottom"] <= bar["trackTop"]
            assert bar["track"] > PHONE_WIDTH * 0.8


def test_should_print_on_a4_within_the_margins(browser, sample_page) -> None:
    load(browser, sample_page, A4_PRINTABLE_WIDTH, media="print")
    scroll_width, _ = browser.execute_script(PAGE_WIDTH)
    assert scroll_width <= A4_PRINTABLE_WIDTH
    assert browser.execute_script("return getComputedStyle(document.querySelector('nav')).display") == "none"
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF-")
