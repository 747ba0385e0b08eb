"""Values that do nothing under an environment's settings are warnings at the file and line that set them."""

from __future__ import annotations

from typing import Any

import pytest

from policies.checks.context import CheckContext
from policies.checks.rules import values
from policies.core.findings import Severity
from policies.engine import locate


def no_effect(render_overlay, budget, environment: str, overlay: dict[str, Any]) -> list[tuple[Any, ...]]:
    render = render_overlay(environment, overlay)
    ctx = CheckContext(environment, budget, render.manifests, render.layers)
    found = [locate(f, ctx, render.layers.files[0].path.parent) for f in values.check(ctx)]
    assert {f.severity for f in found} <= {Severity.WARNING}
    return [(f.field, f.actual, f.file.rsplit("/", 1)[-1], f.line) for f in found]


CASES = [
    ("replicas-under-an-hpa", "production", {"replicaCount": 3}, [("replicaCount", "3", 1)]),
    ("autoscaling-while-off", "staging", {"autoscaling": {"minReplicas": 3, "maxReplicas": 4}},
     [("autoscaling.maxReplicas", "4", 2), ("autoscaling.minReplicas", "3", 3)]),
    ("pdb-with-one-replica", "development", {"podDisruptionBudget": {"maxUnavailable": 2}},
     [("podDisruptionBudget.maxUnavailable", "2", 2)]),
    ("pdb-enabled-but-not-rendered", "development", {"podDisruptionBudget": {"enabled": True}},
     [("podDisruptionBudget.enabled", "True", 2)]),
    ("metrics-port-while-off", "production", {"metrics": {"port": 9999}}, [("metrics.port", "9999", 2)]),
    ("service-monitor-while-metrics-off", "staging", {"metrics": {"serviceMonitor": {"interval": "15s"}}},
     [("metrics.serviceMonitor.interval", "'15s'", 3)]),
    ("prometheus-rule-while-off", "staging", {"monitoring": {"prometheusRule": {"for": "5m"}}},
     [("monitoring.prometheusRule.for", "'5m'", 3)]),
]


@pytest.mark.parametrize(("environment", "overlay", "expected"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_should_warn_about_a_value_with_no_effect(environment, overlay, expected, render_overlay, budget):
    got = no_effect(render_overlay, budget, environment, overlay)
    assert got == [(field, actual, f"overlay-{environment}.yaml", line) for field, actual, line in expected]


TWINS = [
    ("replicas-without-an-hpa", "staging", {"replicaCount": 3}),
    ("autoscaling-while-on", "production", {"autoscaling": {"minReplicas": 3}}),
    ("autoscaling-switched-off", "development", {"autoscaling": {"enabled": False}}),
    ("pdb-rendered", "staging", {"podDisruptionBudget": {"maxUnavailable": 1}}),
    ("pdb-switched-off", "development", {"podDisruptionBudget": {"enabled": False}}),
    ("metrics-port-while-on", "development", {"metrics": {"port": 9465}}),
    ("prometheus-rule-while-on", "production", {"monitoring": {"prometheusRule": {"for": "5m"}}}),
]


@pytest.mark.parametrize(("environment", "overlay"), [pytest.param(*case[1:], id=case[0]) for case in TWINS])
def test_should_not_warn_about_a_value_that_takes_effect(environment, overlay, render_overlay, budget):
    assert no_effect(render_overlay, budget, environment, overlay) == []


def test_should_find_nothing_in_the_shipped_environment_files(rendered, budget):
    ctx = CheckContext(rendered.environment, budget, rendered.manifests, rendered.layers)
    assert list(values.check(ctx)) == []
