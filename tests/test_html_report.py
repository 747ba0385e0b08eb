"""`--format html`: one self-contained page with the Markdown report's content, charts as inline SVG.

What the page looks like in a browser is tested in test_html_report_browser.py;
this module reads the HTML itself.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import find_chromium
from builders import container, context, deployment, resources
from report_samples import sample_outcome

from policies import REPO_ROOT
from policies.checks.baseline import totals_comparison
from policies.checks.rules.resources import usage
from policies.cli import main
from policies.core.errors import InputError
from policies.reports import REPORT_FILES, html
from policies.reports._charts import axis_maximum, timing_bars, usage_bars
from policies.reports.inputerror import render_input_error

# Attributes through which a page can load or link something.
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "poster", "data", "xlink:href", "background"}
LOADING_TAGS = {"script", "link", "iframe", "object", "embed", "img", "video", "audio", "source", "base", "form"}


class PageParts(HTMLParser):
    """Tags, URL-valued attributes, style text and visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in URL_ATTRIBUTES:
                self.urls.append(value or "")
            if name == "style":
                self.styles.append(value or "")
            if name == "fill" and value and value.startswith("url("):
                self.urls.append(value[4:-1])

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def parse(page: str) -> PageParts:
    parts = PageParts()
    parts.feed(page)
    return parts


def external_references(page: str) -> list[str]:
    """Everything in the page that would load or point outside it (fragment links excepted)."""
    parts = parse(page)
    found = [f"<{tag}>" for tag in parts.tags if tag in LOADING_TAGS]
    found += [url for url in parts.urls if not url.startswith("#")]
    for style in parts.styles:
        found += [f"css {part.split(')')[0]})" for part in style.split("url(")[1:] if not part.startswith("#")]
        found += ["css @import"] if "@import" in style else []
    return found


def test_should_find_external_references_in_a_page_that_has_them() -> None:
    page = ('<link rel="stylesheet" href="https://cdn.example/x.css"><style>b{background:url(a.png)}</style>'
            '<a href="#ok">x</a><img src="data:image/png;base64,AA"><svg><use xlink:href="/s.svg#i"/></svg>')
    assert external_references(page) == ["<link>", "<img>", "https://cdn.example/x.css",
                                         "data:image/png;base64,AA", "/s.svg#i", "css a.png)"]


def test_should_write_a_page_with_no_external_references_and_no_script() -> None:
    page = html.render(sample_outcome())
    assert page.startswith("<!DOCTYPE html>")
    assert external_references(page) == []
    assert "default-src 'none'" in page  # the page's own Content-Security-Policy forbids loading anything


def test_should_show_the_verdict_findings_with_file_and_line_budget_use_and_timings() -> None:
    outcome = sample_outcome()
    text = " ".join(" ".join(parse(html.render(outcome)).text).split())
    assert "FAIL: 1 failure(s), 1 warning(s), 0 waived across development, production" in text
    assert "Budget phase 3.4.4 (mode enforce)" in text
    assert "charts/prompted-forge-mcp/values-production.yaml:12" in text
    assert "requests.cpu 325m is over the budget 250m <by 75m>" in text  # escaped markup, shown as text
    assert "development cpu request 25m 50m 50.0 % \u2713 within budget" in text
    assert "development memory limit 256Mi 256Mi 100.0 % = at budget" in text
    assert "production cpu request 325m 250m 130.0 % \u25b2 over budget" in text
    assert "helm package - 3.6 s 3.6 s 3 3 s failure" in text  # median, p95, samples, limit
    assert "120% over budget 3.6 s of 3 s" in text


def test_should_escape_what_it_shows() -> None:
    page = html.render(sample_outcome())
    assert "<by 75m>" not in page and "&lt;by 75m&gt;" in page


def test_should_mark_rows_over_and_at_budget_differently() -> None:
    page = html.render(sample_outcome())
    chart_rows = [line for line in page.replace("<li ", "\n<li ").splitlines() if line.startswith("<li class=\"bar-")]
    marks = [(row.split('data-percent="')[1].split('"')[0], row.split("bar-row status-")[1].split('"')[0])
             for row in chart_rows if "data-percent" in row]
    assert marks == [("50", "within"), ("100", "at"), ("130", "over"), ("100", "at"),
                     ("50", "within"), ("100", "at"), ("120", "over")]
    assert page.count('<tr class="status-over">') == 2  # the usage row and the failed timing
    assert page.count('<tr class="status-at">') == 3  # two usage rows at budget, one changed total


def test_should_show_the_baseline_comparison_only_when_a_baseline_was_given() -> None:
    with_baseline = html.render(sample_outcome())
    assert 'id="baseline"' in with_baseline and "\u2260 changed" in with_baseline
    assert 'id="baseline"' not in html.render(sample_outcome(baseline=False))


def test_should_chart_only_figures_with_a_limit_and_put_the_axis_past_the_largest_bar() -> None:
    outcome = sample_outcome()
    assert [(b.group, b.label, b.percent, b.status) for b in timing_bars(outcome)] == [
        ("development", "helm lint", 50.0, "within"), ("production", "helm template", 100.0, "at"),
        ("pipeline", "helm package", 120.0, "over")]
    assert [b.percent for b in usage_bars(outcome)] == [50.0, 100.0, 130.0, 100.0]
    assert axis_maximum(usage_bars(outcome)) == 150
    assert axis_maximum(timing_bars(outcome)) == 125
    assert axis_maximum([]) == 125  # the 100 % line always shows


def test_should_tell_over_from_at_budget_exactly_not_from_the_rounded_percent() -> None:
    def use(cpu_limit: str, memory_limit: str) -> dict[tuple[str, str], tuple[object, object]]:
        ctx = context(deployment(containers=[container(resources=resources(
            cpu="250m", memory="256Mi", cpu_limit=cpu_limit, memory_limit=memory_limit))]))
        return {(r["kind"], r["name"]): (r["percent"], r["status"]) for r in usage(ctx)}

    at = use("1000m", "1Gi")
    assert at[("limits", "cpu")] == (100.0, "at") and at[("limits", "memory")] == (100.0, "at")
    over = use("1001m", str(2**30 + 1))  # one millicore, one byte over production's budget
    assert over[("limits", "cpu")] == (100.1, "over")
    assert over[("limits", "memory")] == (100.0, "over")
    assert use("999m", "1Gi")[("limits", "cpu")] == (99.9, "within")


def test_should_compare_rendered_totals_with_the_baseline_as_people_read_them() -> None:
    old = {"rendered": {"staging": {"objects": {"ConfigMap": 2, "Deployment": 1},
                                    "requests": {"cpuMillicores": 100, "memoryBytes": 134217728},
                                    "limits": {"cpuMillicores": 500, "memoryBytes": 536870912}},
                        "gone": {"objects": {}}}}
    new = {"rendered": {"staging": {"objects": {"ConfigMap": 3, "Deployment": 1},
                                    "requests": {"cpuMillicores": 100, "memoryBytes": 134217728},
                                    "limits": {"cpuMillicores": 1000, "memoryBytes": int(Decimal(2**30))}},
                        "new-env": {"objects": {"Service": 1}}}}
    assert [(r["environment"], r["figure"], r["baseline"], r["current"]) for r in totals_comparison(old, new)] == [
        ("staging", "objects", "3", "4"), ("staging", "requests cpu", "100m", "100m"),
        ("staging", "requests memory", "128Mi", "128Mi"), ("staging", "limits cpu", "500m", "1000m"),
        ("staging", "limits memory", "512Mi", "1Gi")]


def test_should_write_check_html_into_the_reports_dir(tmp_path: Path, capsys) -> None:
    reports = tmp_path / "reports"
    code = main(["check", "--env", "development", "--timing-runs", "0", "--format", "json",
                 "--baseline", str(REPO_ROOT / "policies" / "baseline.json"), "--reports-dir", str(reports)])
    assert code == 0
    assert sorted(p.name for p in reports.iterdir()) == sorted(REPORT_FILES)
    page = (reports / "check.html").read_text(encoding="utf-8")
    assert external_references(page) == []
    report = json.loads(capsys.readouterr().out)
    text = " ".join(" ".join(parse(page).text).split())
    assert [r["environment"] for r in report["baseline_totals"]] == ["development"] * 5
    for row in report["baseline_totals"]:
        assert f"development {row['figure']} {row['baseline']} {row['current']} = same" in text


def test_should_show_a_warn_verdict_when_only_warnings_stand() -> None:
    outcome = sample_outcome()
    outcome.findings = [dataclasses.replace(f, enforced=False) for f in outcome.findings]
    outcome.mode, outcome.enforcing_phase = "warn", "3.4.4"
    page = html.render(outcome)
    assert '<div class="verdict verdict-warn" role="status">' in page
    assert "<title>WARN · Performance budget check</title>" in page
    assert "<strong>WARN — 3.4.4 would fail: " in page


def test_should_skip_the_browser_tests_without_chromium_and_fail_in_ci(monkeypatch, tmp_path: Path) -> None:
    for variable in ("CHROMIUM", "CHROMEDRIVER", "CI"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match=r"chromium and chromedriver not found: `make setup` installs"):
        find_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI is set, so the browser tests may not skip"):
        find_chromium()


def test_should_write_an_error_page_without_a_verdict_for_bad_input() -> None:
    error = InputError("expected a mapping, found <list>", file="charts/prompted-forge-mcp/values-staging.yaml",
                       line=3, column=1)
    page = render_input_error(error, "html")
    assert external_references(page) == []
    assert "<title>ERROR · Performance budget check</title>" in page
    text = " ".join(" ".join(parse(page).text).split())
    assert "ERROR: the check stopped on bad input (exit 2); nothing was judged" in text
    assert "charts/prompted-forge-mcp/values-staging.yaml:3:1: expected a mapping, found <list>" in text
    assert "PASS" not in text and "FAIL" not in text


def test_should_show_a_waived_findings_reason_and_expiry() -> None:
    outcome = sample_outcome()
    outcome.findings = [dataclasses.replace(outcome.findings[1], waived_by="regression.rendered-totals@development",
                                            waiver_reason="dashboard ConfigMap added, ticket OPS-9",
                                            waiver_expires="2026-12-31")]
    text = " ".join(" ".join(parse(html.render(outcome)).text).split())
    assert "\u2013 waived regression.rendered-totals development" in text
    assert "2 \u2192 3 dashboard ConfigMap added, ticket OPS-9 (expires 2026-12-31)" in text
