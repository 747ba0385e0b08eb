"""Every dashboard panel's query returns data for the release, and only for it, evaluated by promtool on
the same synthetic series the alert rule tests use (alertscenarios.py).

The queries come from the development render, the one dashboard with every panel (metrics are on there).
Each is evaluated with Grafana's `$__rate_interval` set to the alerts' 5m, twice: `count(query)` is 1
(exactly one series answers; two for the probe panel, one per probe type, of which the model
slows the readiness probe only) and `count(abs((query) - expected) <= tolerance)` is 1 (at the level the
series were built for). Series of another release in the same namespace and of the
same release in another namespace are present at other levels, so a query that selected them would
answer with more than one series or the wrong value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alertscenarios import (
    SCRAPE_SECONDS,
    WARM_UP_SECONDS,
    Phase,
    Target,
    chart_pods,
    counter_values,
    cpu_model,
    gauge_values,
    health_check_model,
    levels_per_sample,
    memory_model,
    readiness_model,
    selector,
)
from promtoolkit import require_promtool, run_rule_tests
from test_dashboard import dashboard_of, substituted

from policies.inputs.budget import Budget
from policies.render.render import Render

SECONDS = WARM_UP_SECONDS + 300
EVAL_SECONDS = SECONDS - SCRAPE_SECONDS
RESTARTS_PER_SCRAPE = 1.0
REPLICAS, HPA_DESIRED = 2, 3
SCRAPE_DURATION_SECONDS, SCRAPE_BYTES = 0.01, 800


@dataclass(frozen=True)
class Expectation:
    value: float
    tolerance: float
    series: int = 1  # how many series answer (the probe panel has one per probe type)
    matching: int = 1  # how many of them are at `value` (the model slows the readiness probe only)


def constant(level: float | None) -> list[float | None]:
    return levels_per_sample([Phase(SECONDS, level)])


def panel_queries(dashboard: dict[str, Any]) -> dict[str, str]:
    """Query name (legend-free: panel title, then ref id) -> expression, for every panel target."""
    return {f"{panel['title']} / {target['refId']}": target["expr"]
            for panel in dashboard["panels"] for target in panel["targets"]}


def synthetic_series(budget: Budget, targets: tuple[Target, Target, Target], fullname: str
                     ) -> tuple[list[dict[str, str]], dict[str, float]]:
    """Input series for every panel, and the level each of ours was built at (by metric family)."""
    ours, other_release, other_namespace = targets
    cpu, memory, health = cpu_model(budget, 600, "10m"), memory_model(budget, 600, "10m"), \
        health_check_model(budget, 600, "10m")
    ready = readiness_model(budget)
    levels = {"cpu": cpu.just_below, "memory": memory.just_below, "health": health.just_below}
    series: list[dict[str, str]] = []
    # Ours just below each alert line; the others far above it, so selecting them would show.
    for target, scale in ((ours, 1.0), (other_release, 1.3), (other_namespace, 1.3)):
        series += cpu.series(target, constant(levels["cpu"] * scale))
        series += memory.series(target, constant(levels["memory"] * scale))
        series += health.series(target, constant(health.just_above if scale > 1 else levels["health"]))
        series += ready.series(target, constant(0.0))
        pod = {"namespace": target.namespace, "pod": target.pod, "container": target.container}
        series.append({"series": selector("kube_pod_container_status_restarts_total",
                                          {**pod, "job": "kube-state-metrics"}),
                       "values": counter_values(constant(scale), lambda s: s * RESTARTS_PER_SCRAPE / SCRAPE_SECONDS)})
        scraped = {"namespace": target.namespace, "pod": target.pod, "job": fullname, "endpoint": "metrics"}
        series.append({"series": selector("scrape_duration_seconds", scraped),
                       "values": gauge_values(constant(scale), lambda s: s * SCRAPE_DURATION_SECONDS)})
        series.append({"series": selector("scrape_body_size_bytes", scraped),
                       "values": gauge_values(constant(scale), lambda s: s * SCRAPE_BYTES)})
    for namespace, scale in ((ours.namespace, 1), (other_namespace.namespace, 3)):
        series.append({"series": selector("kube_deployment_spec_replicas",
                                          {"namespace": namespace, "deployment": fullname}),
                       "values": gauge_values(constant(1.0), lambda _, s=scale: REPLICAS * s)})
        series.append({"series": selector("kube_horizontalpodautoscaler_status_desired_replicas",
                                          {"namespace": namespace, "horizontalpodautoscaler": fullname}),
                       "values": gauge_values(constant(1.0), lambda _, s=scale: HPA_DESIRED * s)})
    return series, levels


@pytest.fixture(scope="module")
def development(render_env: Callable[[str], Render]) -> Render:
    return render_env("development")


def one_series_at(query: str, expected: Expectation) -> list[dict[str, Any]]:
    """promtool checks: the query answers with exactly the expected series, each at the expected level."""
    def count(value: int) -> dict[str, Any]:
        return {"eval_time": f"{EVAL_SECONDS}s", "exp_samples": [{"labels": "{}", "value": value}]}

    return [{"expr": f"count(({query}))", **count(expected.series)},
            {"expr": f"count(abs(({query}) - {expected.value!r}) <= {expected.tolerance!r})",
             **count(expected.matching)}]


def expectations(levels: dict[str, float]) -> dict[str, Expectation]:
    """Panel query (by its title / ref id) -> the value ours was built at."""
    restarts_in_5m = 300 / SCRAPE_SECONDS * RESTARTS_PER_SCRAPE
    return {
        "CPU, % of requests / A": Expectation(levels["cpu"], 0.01),
        "Memory, % of limits / A": Expectation(levels["memory"], 0.01),
        "Health-check P95 / A": Expectation(levels["health"], 0.001, series=2),  # readiness; liveness stays fast
        "Pods ready, replicas and HPA desired replicas / A": Expectation(1, 0),
        "Pods ready, replicas and HPA desired replicas / B": Expectation(REPLICAS, 0),
        "Pods ready, replicas and HPA desired replicas / C": Expectation(HPA_DESIRED, 0),
        # increase() extrapolates to the window's edges: within a restart of the true count.
        "Restarts / A": Expectation(restarts_in_5m, RESTARTS_PER_SCRAPE),
        "/metrics scrape duration / A": Expectation(SCRAPE_DURATION_SECONDS, 1e-9),
        "/metrics scrape size / A": Expectation(SCRAPE_BYTES, 0),
    }


def test_should_answer_every_panel_query_for_the_release_only(development: Render, budget: Budget,
                                                              tmp_path: Path) -> None:
    promtool = require_promtool()
    targets = chart_pods(development.manifests)
    fullname = development.manifests.get("Deployment").name
    series, levels = synthetic_series(budget, targets, fullname)
    queries = panel_queries(dashboard_of(development))
    expected = expectations(levels)
    assert set(queries) == set(expected), "a panel query has no expectation here (or one has no panel)"
    checks = [check for name, query in queries.items() for check in one_series_at(substituted(query), expected[name])]
    group = {"name": "dashboard panel queries", "interval": f"{SCRAPE_SECONDS}s", "input_series": series,
             "promql_expr_test": checks}
    result = run_rule_tests(promtool, [], [group], tmp_path, f"{SCRAPE_SECONDS}s")
    assert result.passed, result.output


def test_should_fail_a_panel_query_that_selects_another_release(development: Render, budget: Budget,
                                                                tmp_path: Path) -> None:
    promtool = require_promtool()
    targets = chart_pods(development.manifests)
    fullname = development.manifests.get("Deployment").name
    series, levels = synthetic_series(budget, targets, fullname)
    query = panel_queries(dashboard_of(development))["CPU, % of requests / A"]
    namespace = targets[0].namespace
    loosened = substituted(query).replace(f'namespace="{namespace}", ', "")  # any namespace
    assert loosened != substituted(query)
    checks = one_series_at(loosened, Expectation(levels["cpu"], 0.01))
    result = run_rule_tests(promtool, [], [{"name": "loosened", "interval": f"{SCRAPE_SECONDS}s",
                                            "input_series": series, "promql_expr_test": checks}],
                            tmp_path, f"{SCRAPE_SECONDS}s")
    assert not result.passed
    # The series of the same release in another namespace now answer too.
    assert "exp: {} 1E+00" in result.output and "got: {} 2E+00" in result.output, result.output
