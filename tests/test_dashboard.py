"""The Grafana dashboard the chart ships: labelled for the sidecar, queries that parse and match the alerts,
thresholds equal to the budget, JSON that loads through Grafana's SDK, and generated files that are current."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import promql_parser
import pytest
from alertrules import alerts_of, selectors
from deepdiff import DeepDiff
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from policies.docs import dashboard as dashboard_module
from policies.docs import dashboardsvg
from policies.inputs.budget import Budget, load_budget
from policies.render.render import Render

# Grafana's built-in variables, replaced by a fixed value before a query is parsed (Grafana does the same
# before sending it; `$__rate_interval` is at least four scrape intervals).
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}

# Panel title -> (budget key, budget units per panel unit). Written out here, not read from the generator,
# so a generator that reads the wrong key is caught.
PANEL_THRESHOLDS: dict[str, tuple[tuple[str, ...], Decimal]] = {
    "CPU, % of requests": (("alerts", "cpuOfRequestsPercent"), Decimal(1)),
    "Memory, % of limits": (("alerts", "memoryOfLimitsPercent"), Decimal(1)),
    "Health-check P95": (("alerts", "healthCheckP95Milliseconds"), Decimal(1000)),
    "/metrics scrape duration": (("metrics", "p95Milliseconds"), Decimal(1000)),
    "/metrics scrape size": (("metrics", "maxScrapeBytes"), Decimal(1)),
}
# Panel title -> the alert whose expression (before its comparison) the panel's first query must equal.
PANEL_ALERTS = {
    "CPU, % of requests": "PromptedForgeMCPCPUAboveRequests",
    "Memory, % of limits": "PromptedForgeMCPMemoryAboveLimits",
    "Health-check P95": "PromptedForgeMCPHealthCheckSlow",
}
METRICS_PANELS = {"/metrics scrape duration", "/metrics scrape size"}
ENABLE_RULE = {"monitoring": {"prometheusRule": {"enabled": True}}}


def dashboard_of(render: Render) -> dict[str, Any]:
    """The dashboard JSON of the render's dashboard ConfigMap."""
    [config_map] = [m for m in render.manifests.of_kind("ConfigMap") if m.name.endswith("-dashboard")]
    [text] = config_map.doc["data"].values()
    return json.loads(text)


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def substituted(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def threshold_lines(panel: dict[str, Any]) -> list[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [step["value"] for step in steps if step.get("value") is not None]


def threshold_mismatches(dashboard: dict[str, Any], budget: Budget) -> list[str]:
    """Each panel whose threshold line differs from its budget number (or has a line and no budget number)."""
    mismatches = []
    for panel in dashboard["panels"]:
        lines, title = threshold_lines(panel), panel["title"]
        if title not in PANEL_THRESHOLDS:
            mismatches += [f"panel {title!r} has a threshold line {lines} but no budget key"] if lines else []
            continue
        key, scale = PANEL_THRESHOLDS[title]
        expected: Any = budget.data
        for part in key:
            expected = expected[part]
        expected = Decimal(str(expected))
        found = [Decimal(repr(line)) * scale for line in lines]
        if found != [expected]:
            mismatches.append(f"panel {title!r}: expected a line at {expected} (budget {'.'.join(key)}), "
                              f"found {[format(f.normalize(), 'f') for f in found]}")
    return mismatches


def test_should_keep_the_chart_dashboard_generated_from_the_budget(budget: Budget) -> None:
    committed = dashboard_module.DASHBOARD_FILE.read_text(encoding="utf-8")
    assert committed == dashboard_module.generate(budget), "run `make docs`"


def test_should_keep_the_layout_picture_generated_from_the_dashboard() -> None:
    assert dashboardsvg.SVG_FILE.read_text(encoding="utf-8") == dashboardsvg.generate(), "run `make docs`"


def test_should_draw_every_panel_with_its_title_and_budget_line() -> None:
    dashboard = json.loads(dashboard_module.DASHBOARD_FILE.read_text(encoding="utf-8"))
    svg = dashboardsvg.SVG_FILE.read_text(encoding="utf-8")
    assert svg.count('<g class="panel">') == len(dashboard["panels"])
    for panel in dashboard["panels"]:
        assert f">{panel['title']}</text>" in svg
    assert ">budget 70 %</text>" in svg and ">budget 500 ms</text>" in svg and ">budget 1024 bytes</text>" in svg


def test_should_ship_the_dashboard_labelled_for_the_grafana_sidecar(rendered: Render) -> None:
    [config_map] = [m for m in rendered.manifests.of_kind("ConfigMap") if m.name.endswith("-dashboard")]
    assert config_map.doc["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert not config_map.is_hook


def test_should_use_the_configured_sidecar_label(render_overlay: Callable[..., Render]) -> None:
    render = render_overlay("staging", {"monitoring": {"dashboard": {"label": "example.com/dashboard",
                                                                     "labelValue": "yes"}}})
    [config_map] = [m for m in render.manifests.of_kind("ConfigMap") if m.name.endswith("-dashboard")]
    labels = config_map.doc["metadata"]["labels"]
    assert labels["example.com/dashboard"] == "yes" and "grafana_dashboard" not in labels


def test_should_render_no_dashboard_when_disabled(render_overlay: Callable[..., Render]) -> None:
    render = render_overlay("production", {"monitoring": {"dashboard": {"enabled": False}}})
    assert [m.name for m in render.manifests.of_kind("ConfigMap") if m.name.endswith("-dashboard")] == []


def test_should_parse_every_query_after_grafana_variables_are_substituted(rendered: Render) -> None:
    found = queries(dashboard_of(rendered))
    assert found and not [q for q in found if "@promql:" in q]
    for query in found:
        promql_parser.parse(substituted(query))  # raises on a syntax error


def test_should_scope_every_query_to_the_release(rendered: Render) -> None:
    dashboard = dashboard_of(rendered)
    namespace = rendered.manifests.get("Deployment").doc["metadata"]["namespace"]
    for query in queries(dashboard):
        matchers = [str(m) for s in selectors(promql_parser.parse(substituted(query))) for m in s.matchers.matchers]
        assert f'namespace="{namespace}"' in matchers, query


@pytest.mark.parametrize("environment", load_budget().environments, ids=lambda e: f"env={e}")
def test_should_query_exactly_what_the_alert_evaluates(environment: str,
                                                       render_overlay: Callable[..., Render]) -> None:
    render = render_overlay(environment, ENABLE_RULE)
    panels = {panel["title"]: panel for panel in dashboard_of(render)["panels"]}
    alerts = {alert.name: alert for alert in alerts_of(render.manifests)}
    for title, alert_name in PANEL_ALERTS.items():
        alert = promql_parser.parse(alerts[alert_name].expr)
        assert isinstance(alert, promql_parser.BinaryExpr)
        panel = promql_parser.parse(substituted(panels[title]["targets"][0]["expr"]))
        assert panel.prettify() == alert.lhs.prettify(), title


def test_should_draw_threshold_lines_equal_to_the_budget(rendered: Render, budget: Budget) -> None:
    assert threshold_mismatches(dashboard_of(rendered), budget) == []


def test_should_report_a_dashboard_threshold_that_differs_from_the_budget(render_env: Callable[[str], Render],
                                                                          budget: Budget) -> None:
    dashboard = dashboard_of(render_env("production"))
    cpu = next(p for p in dashboard["panels"] if p["title"] == "CPU, % of requests")
    cpu["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] = 75
    assert threshold_mismatches(dashboard, budget) == [
        f"panel 'CPU, % of requests': expected a line at {budget['alerts']['cpuOfRequestsPercent']} "
        "(budget alerts.cpuOfRequestsPercent), found ['75']"]


def test_should_move_the_lines_when_the_budget_moves(budget: Budget) -> None:
    data = json.loads(json.dumps(budget.data))
    data["alerts"]["healthCheckP95Milliseconds"] = 250
    moved = dashboard_module.build(Budget(type(budget.source)(budget.path, data, budget.source.lines)))
    health = next(p for p in moved["panels"] if p["title"] == "Health-check P95")
    assert threshold_lines(health) == [0.25]


def test_should_show_the_metrics_panels_only_where_metrics_are_on(rendered: Render, budget: Budget) -> None:
    titles = {panel["title"] for panel in dashboard_of(rendered)["panels"]}
    metrics_on = rendered.environment in budget["metrics"]["environments"]
    assert (titles & METRICS_PANELS) == (METRICS_PANELS if metrics_on else set())
    assert set(PANEL_ALERTS) | {"Pods ready, replicas and HPA desired replicas", "Restarts"} <= titles


def test_should_load_through_the_grafana_sdk_without_losing_a_field(rendered: Render) -> None:
    dashboard = dashboard_of(rendered)
    loaded = json.loads(json.dumps(Dashboard.from_json(dashboard), cls=JSONEncoder))
    assert DeepDiff(dashboard, loaded, ignore_numeric_type_changes=True) == {}


def test_should_notice_a_field_the_sdk_does_not_know(render_env: Callable[[str], Render]) -> None:
    dashboard = dashboard_of(render_env("staging"))
    dashboard["panels"][0]["thresholdz"] = {}
    loaded = json.loads(json.dumps(Dashboard.from_json(dashboard), cls=JSONEncoder))
    assert DeepDiff(dashboard, loaded, ignore_numeric_type_changes=True) == {
        "dictionary_item_removed": ["root['panels'][0]['thresholdz']"]}


def test_should_give_each_release_its_own_uid_within_grafanas_limit(render_env: Callable[[str], Render]) -> None:
    uids = {env: dashboard_of(render_env(env))["uid"] for env in ("development", "production")}
    assert all(len(uid) <= 40 for uid in uids.values())
    assert dashboard_of(render_env("development"))["title"].startswith("Prompted Forge MCP: ")
