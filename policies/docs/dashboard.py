"""The Grafana dashboard the chart ships, built with Grafana's typed SDK from policies/budget.yaml.

Written by `python -m policies docs` (`make docs`; --check: exit 1 when stale).

The dashboard is *built* here, at `make docs` time, with grafana-foundation-sdk's
builders (typed panels, queries, thresholds), and written to the chart as
`files/dashboard.json`. Two kinds of text in it are filled in later:

- every threshold line is a number read from the budget now, so a panel's line
  is the budget's number by construction;
- every query is a token, `@promql:<name>@`, that the chart replaces with the
  output of its `prompted-forge-mcp.promql` helper (templates/_helpers.tpl), the
  same helper the PrometheusRule's alerts use, with `$__rate_interval` as the
  window. An alert and its panel therefore select the same series with the same
  expression; only the release's namespace and names are known at render time.

Panels whose title starts with `/metrics` are dropped by the chart where metrics
are off (every environment but development).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_models

from policies import CHART_DIR, REPO_ROOT
from policies.core.atomic import sync_generated
from policies.inputs.budget import Budget, load_budget

DASHBOARD_FILE = CHART_DIR / "files" / "dashboard.json"
QUERY_TOKEN = "@promql:{}@"
METRICS_PREFIX = "/metrics"  # panels the chart drops where metrics are off
DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
GRID_COLUMNS = 24


@dataclass(frozen=True)
class Query:
    name: str  # the chart helper's query name
    legend: str


@dataclass(frozen=True)
class Line:
    """A threshold line: the budget key it reads and its value in the panel's unit."""

    budget_key: tuple[str, ...]
    value: float


@dataclass(frozen=True)
class PanelSpec:
    title: str
    description: str
    unit: str
    queries: tuple[Query, ...]
    grid: tuple[int, int, int, int]  # x, y, w, h on Grafana's 24-column grid
    line: Line | None = None
    minimum: float | None = 0


def budget_number(budget: Budget, key: tuple[str, ...]) -> float:
    value: Any = budget.data
    for part in key:
        value = value[part]
    return float(value)


def panel_specs(budget: Budget) -> list[PanelSpec]:
    """The panels, in reading order, each threshold read from the budget."""
    def line(*key: str, scale: float = 1.0) -> Line:
        return Line(key, budget_number(budget, key) * scale)

    return [
        PanelSpec("CPU, % of requests", "Container CPU usage as a percentage of its request; the line is the "
                  "alert threshold (alerts.cpuOfRequestsPercent).", "percent",
                  (Query("cpuOfRequests", "{{pod}}"),), (0, 0, 12, 8), line("alerts", "cpuOfRequestsPercent")),
        PanelSpec("Memory, % of limits", "Container working set as a percentage of its limit; the line is the "
                  "alert threshold (alerts.memoryOfLimitsPercent).", "percent",
                  (Query("memoryOfLimits", "{{pod}}"),), (12, 0, 12, 8), line("alerts", "memoryOfLimitsPercent")),
        PanelSpec("Health-check P95", "P95 of the kubelet's liveness and readiness probe timings "
                  "(prober_probe_duration_seconds); the line is alerts.healthCheckP95Milliseconds.", "s",
                  (Query("healthCheckP95Seconds", "{{probe_type}}"),), (0, 8, 12, 8),
                  line("alerts", "healthCheckP95Milliseconds", scale=0.001)),
        PanelSpec("Pods ready, replicas and HPA desired replicas", "Ready pods against the Deployment's replicas "
                  "and, where an autoscaler exists, the replicas it wants.", "short",
                  (Query("podsReady", "ready"), Query("replicas", "replicas"),
                   Query("hpaDesiredReplicas", "HPA desired")), (12, 8, 12, 8)),
        PanelSpec("Restarts", "Container restarts per pod over the window.", "short",
                  (Query("restarts", "{{pod}}"),), (0, 16, 24, 6)),
        PanelSpec(f"{METRICS_PREFIX} scrape duration", "How long Prometheus took to scrape /metrics; the line is "
                  "metrics.p95Milliseconds.", "s", (Query("scrapeDurationSeconds", "{{pod}}"),), (0, 22, 12, 8),
                  line("metrics", "p95Milliseconds", scale=0.001)),
        PanelSpec(f"{METRICS_PREFIX} scrape size", "Uncompressed size of each /metrics scrape "
                  "(scrape_body_size_bytes: Prometheus needs --enable-feature=extra-scrape-metrics); the line is "
                  "metrics.maxScrapeBytes.", "bytes", (Query("scrapeBytes", "{{pod}}"),), (12, 22, 12, 8),
                  line("metrics", "maxScrapeBytes")),
    ]


def _panel(spec: PanelSpec) -> timeseries.Panel:
    x, y, w, h = spec.grid
    panel = (timeseries.Panel().title(spec.title).description(spec.description).unit(spec.unit)
             .datasource(DATASOURCE).grid_pos(dashboard_models.GridPos(h=h, w=w, x=x, y=y))
             .line_width(1).fill_opacity(10))
    if spec.minimum is not None:
        panel = panel.min(spec.minimum)
    for ref, query in zip("ABCDEFGH", spec.queries, strict=False):
        panel = panel.with_target(prometheus.Dataquery().ref_id(ref).expr(QUERY_TOKEN.format(query.name))
                                  .legend_format(query.legend).range().datasource(DATASOURCE))
    steps = [dashboard_models.Threshold(value=None, color="green")]
    if spec.line is not None:
        steps.append(dashboard_models.Threshold(value=spec.line.value, color="red"))
        panel = panel.thresholds_style(common_builders.GraphThresholdsStyleConfig()
                                       .mode(common.GraphThresholdsStyleMode.DASHED))
    return panel.thresholds(dashboard_builders.ThresholdsConfig().mode(dashboard_models.ThresholdsMode.ABSOLUTE)
                            .steps(steps))


def build(budget: Budget) -> dict[str, Any]:
    """The dashboard as Grafana JSON (a dict); uid and title are filled in by the chart."""
    board = (dashboard_builders.Dashboard("@title@").uid("@uid@").tags(["prompted-forge-mcp", "performance-budget"])
             .description("Prompted Forge MCP against its performance budget (policies/budget.yaml). "
                          "Queries come from the chart, thresholds from the budget.")
             .time("now-6h", "now").refresh("1m").timezone("browser").editable()
             .with_variable(dashboard_builders.DatasourceVariable("datasource").label("Prometheus")
                            .type("prometheus")))
    for spec in panel_specs(budget):
        board = board.with_panel(_panel(spec))
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


def generate(budget: Budget) -> str:
    return json.dumps(build(budget), indent=2, sort_keys=True) + "\n"


def sync(check: bool = False) -> int:
    """Rewrite the generated file (check: only report whether the committed one is stale; 1 when it is)."""
    return sync_generated(DASHBOARD_FILE, generate(load_budget()), check,
                          str(DASHBOARD_FILE.relative_to(REPO_ROOT)))
