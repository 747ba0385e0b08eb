"""The runtime thresholds the chart carries into a cluster equal the budget.

Two places hold budget numbers in rendered form: the `helm test` pod's
environment (what budget-test.mjs asserts) and the PrometheusRule's alert
expressions. Both are read from the render and compared with budget.yaml;
the tables below only say which budget key each rendered threshold stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from alertrules import alerts_of, duration_seconds, threshold

from policies.inputs.budget import Budget, load_budget
from policies.render.manifests import Manifest, ManifestIndex
from policies.render.render import Render

BudgetKey = tuple[str, ...]

# Environment variable of the helm test pod -> the budget number it must carry.
TEST_POD_THRESHOLDS: dict[str, BudgetKey] = {
    "LIVENESS_P95_MS": ("health", "liveness", "p95Milliseconds"),
    "READINESS_P95_MS": ("health", "readiness", "p95Milliseconds"),
    "METRICS_P95_MS": ("metrics", "p95Milliseconds"),
    "METRICS_MAX_BYTES": ("metrics", "maxScrapeBytes"),
}


@dataclass(frozen=True)
class AlertThreshold:
    budget_key: BudgetKey
    # "expression": the number the alert's expression compares against;
    # "for": the alert's `for:` duration in seconds.
    carried_by: str
    # Budget units per rendered unit (the latency alert compares seconds, the budget says ms).
    scale: Decimal = Decimal(1)


ALERT_THRESHOLDS: dict[str, AlertThreshold] = {
    "PromptedForgeMCPCPUAboveRequests": AlertThreshold(("alerts", "cpuOfRequestsPercent"), "expression"),
    "PromptedForgeMCPMemoryAboveLimits": AlertThreshold(("alerts", "memoryOfLimitsPercent"), "expression"),
    "PromptedForgeMCPHealthCheckSlow": AlertThreshold(("alerts", "healthCheckP95Milliseconds"), "expression",
                                                      Decimal(1000)),
    "PromptedForgeMCPPodNotReady": AlertThreshold(("regression", "readinessAlertSeconds"), "for"),
}
ENABLE_RULE = {"monitoring": {"prometheusRule": {"enabled": True}}}


def budget_number(budget: Budget, key: BudgetKey) -> Decimal:
    value = budget.data
    for part in key:
        value = value[part]
    return Decimal(str(value))


def number_text(value: Decimal | None) -> str:
    return "nothing" if value is None else format(value.normalize(), "f")


def load_target(budget: Budget) -> tuple[str, Decimal]:
    """The phase that sets the P95 under load, and its number."""
    [(phase, ms)] = [(name, Decimal(str(spec["loadP95Milliseconds"])))
                     for name, spec in budget["phase"]["phases"].items() if "loadP95Milliseconds" in spec]
    return phase, ms


def helm_test_env(render: Render) -> dict[str, str]:
    pod = render.manifests.get("Pod")
    container = pod.doc["spec"]["containers"][0]
    return {item["name"]: str(item.get("value")) for item in container.get("env") or []}


def helm_test_mismatches(render: Render, budget: Budget) -> list[str]:
    """Each helm test threshold that differs from its budget number."""
    env = helm_test_env(render)
    mismatches = []
    for name, key in TEST_POD_THRESHOLDS.items():
        expected = budget_number(budget, key)
        actual = env.get(name)
        if actual is None or Decimal(actual) != expected:
            mismatches.append(f"{render.environment}: test pod env {name}: expected {expected} "
                              f"(budget {'.'.join(key)}), found {actual}")
    load_phase, load_ms = load_target(budget)
    if env.get("LOAD_P95_MS") is None or Decimal(env["LOAD_P95_MS"]) != load_ms:
        mismatches.append(f"{render.environment}: test pod env LOAD_P95_MS: expected {load_ms} "
                          f"(budget phase.phases.{load_phase}.loadP95Milliseconds), found {env.get('LOAD_P95_MS')}")
    phases = list(budget["phase"]["phases"])
    enforce = "true" if phases.index(budget.phase) >= phases.index(load_phase) else "false"
    if env.get("LOAD_ENFORCE") != enforce:
        mismatches.append(f"{render.environment}: test pod env LOAD_ENFORCE: expected {enforce} "
                          f"(phase {budget.phase}; the load P95 is enforced from {load_phase}), "
                          f"found {env.get('LOAD_ENFORCE')}")
    metrics_expected = render.environment in budget["metrics"]["environments"]
    if ("METRICS_URL" in env) != metrics_expected:
        verb = "does not check" if metrics_expected else "checks"
        mismatches.append(f"{render.environment}: test pod {verb} /metrics; "
                          f"budget metrics.environments is {budget['metrics']['environments']}")
    return mismatches


def alert_mismatches(render: Render, budget: Budget) -> list[str]:
    """Each alert threshold that differs from its budget number, and alerts with no budget number."""
    alerts = {alert.name: alert for alert in alerts_of(render.manifests)}
    mismatches = [f"{render.environment}: alert {name} has no budget threshold in ALERT_THRESHOLDS"
                  for name in alerts.keys() - ALERT_THRESHOLDS.keys()]
    for name, bound in ALERT_THRESHOLDS.items():
        expected = budget_number(budget, bound.budget_key)
        if name not in alerts:
            mismatches.append(f"{render.environment}: alert {name} is missing; "
                              f"it carries {'.'.join(bound.budget_key)}")
            continue
        alert = alerts[name]
        rendered = threshold(alert) if bound.carried_by == "expression" else duration_seconds(alert)
        actual = None if rendered is None else Decimal(repr(rendered)) * bound.scale
        if actual != expected:
            mismatches.append(f"{render.environment}: alert {name} {bound.carried_by}: expected {expected} "
                              f"(budget {'.'.join(bound.budget_key)}), found {number_text(actual)}")
    return mismatches


def test_should_pass_the_budget_thresholds_to_the_helm_test_pod(rendered: Render, budget: Budget) -> None:
    assert helm_test_mismatches(rendered, budget) == []


def test_should_report_a_helm_test_threshold_that_differs_from_the_budget(
    render_overlay: Callable[..., Render], budget: Budget
) -> None:
    render = render_overlay("development", {"budgetTest": {"livenessP95Milliseconds": 150}})
    expected = budget_number(budget, TEST_POD_THRESHOLDS["LIVENESS_P95_MS"])
    assert helm_test_mismatches(render, budget) == [
        f"development: test pod env LIVENESS_P95_MS: expected {expected} "
        "(budget health.liveness.p95Milliseconds), found 150"
    ]


def test_should_report_a_load_threshold_or_enforcement_that_differs_from_the_budget(
    render_overlay: Callable[..., Render], budget: Budget
) -> None:
    phase, ms = load_target(budget)
    assert budget.phase != phase, "this test assumes the load target is not yet in force"
    render = render_overlay("production", {"budgetTest": {"load": {"p95Milliseconds": 150, "enforce": True}}})
    assert helm_test_mismatches(render, budget) == [
        f"production: test pod env LOAD_P95_MS: expected {ms} (budget phase.phases.{phase}.loadP95Milliseconds), "
        "found 150",
        f"production: test pod env LOAD_ENFORCE: expected false (phase {budget.phase}; the load P95 is enforced "
        f"from {phase}), found true",
    ]


def test_should_report_a_helm_test_that_checks_metrics_where_the_budget_has_none(
    render_overlay: Callable[..., Render], budget: Budget
) -> None:
    assert "staging" not in budget["metrics"]["environments"]
    render = render_overlay("staging", {"metrics": {"enabled": True}})
    assert [m for m in helm_test_mismatches(render, budget) if "/metrics" in m] == [
        "staging: test pod checks /metrics; "
        f"budget metrics.environments is {budget['metrics']['environments']}"
    ]


@pytest.mark.parametrize("environment", load_budget().environments, ids=lambda e: f"env={e}")
def test_should_render_alert_thresholds_equal_to_the_budget(
    environment: str, render_overlay: Callable[..., Render], budget: Budget
) -> None:
    assert alert_mismatches(render_overlay(environment, ENABLE_RULE), budget) == []


def test_should_enable_the_budget_alerts_in_production(render_env: Callable[[str], Render]) -> None:
    assert {alert.name for alert in alerts_of(render_env("production").manifests)} == set(ALERT_THRESHOLDS)


@pytest.mark.parametrize(
    ("overlay", "alert", "found"),
    [
        ({"healthCheckP95Milliseconds": 750}, "PromptedForgeMCPHealthCheckSlow", "750"),
        ({"cpuOfRequestsPercent": 90}, "PromptedForgeMCPCPUAboveRequests", "90"),
        ({"readinessSeconds": 30}, "PromptedForgeMCPPodNotReady", "30"),
    ],
    ids=["latency", "cpu", "readiness"],
)
def test_should_report_an_alert_threshold_that_differs_from_the_budget(
    overlay: dict[str, int], alert: str, found: str, render_overlay: Callable[..., Render], budget: Budget
) -> None:
    render = render_overlay("production", {"monitoring": {"prometheusRule": overlay}})
    mismatches = alert_mismatches(render, budget)
    assert len(mismatches) == 1
    assert mismatches[0].startswith(f"production: alert {alert} ")
    assert mismatches[0].endswith(f"found {found}")


def test_should_report_a_missing_alert_and_one_without_a_budget_threshold(
    render_env: Callable[[str], Render], budget: Budget
) -> None:
    render = render_env("production")
    rule = render.manifests.get("PrometheusRule")
    others = [m for m in render.manifests if m is not rule]
    unbudgeted = {"alert": "Unbudgeted", "expr": "up == 0"}
    doc = {**rule.doc, "spec": {"groups": [{"name": "g", "rules": [unbudgeted]}]}}
    broken = replace(render, manifests=ManifestIndex([*others, Manifest(doc, rule.source)]))
    mismatches = alert_mismatches(broken, budget)
    assert "production: alert Unbudgeted has no budget threshold in ALERT_THRESHOLDS" in mismatches
    assert len([m for m in mismatches if "is missing" in m]) == len(ALERT_THRESHOLDS)
