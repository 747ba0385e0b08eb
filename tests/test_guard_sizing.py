"""The namespace guards as rendered: sized right for any rollout, equal to the budget, valid for every Kubernetes.

The quota arithmetic (policies/checks/guardsizing.py) is checked against a step-by-step
model of a rolling update, and the chart's template against the arithmetic for
1 to 20 maxReplicas.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from builders import budget_with
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.checks.context import CheckContext
from policies.checks.guardsizing import terminating_pods
from policies.checks.kubeschema import chart_kube_versions, validate_manifests
from policies.checks.rules import guard
from policies.core.quantity import parse_resource
from policies.inputs.budget import Budget
from policies.render.manifests import ManifestIndex
from policies.render.render import Render

GUARD_KINDS = ("LimitRange", "ResourceQuota")


def rolling_update(replicas: int, surge: int, grace: int, step: int) -> tuple[int, int]:
    """(most pods counted by quota at once, most of them terminating) in one rollout at `replicas`.

    The Deployment controller with maxUnavailable 0: `surge` new pods start; each step (`step` seconds, the
    fastest a new pod becomes available) it deletes as many old pods as new ones became available and starts
    new ones up to replicas + surge pods that are not terminating. A deleted pod counts for `grace` seconds.
    """
    old, available, starting, now = replicas, 0, min(surge, replicas), 0
    deleted_at: list[int] = []
    peak_total = peak_terminating = 0

    def observe() -> None:
        nonlocal peak_total, peak_terminating
        terminating = sum(1 for moment in deleted_at if now - moment <= grace)
        peak_terminating = max(peak_terminating, terminating)
        peak_total = max(peak_total, old + available + starting + terminating)

    observe()
    while old or starting:
        now += step
        available, starting = available + starting, 0
        victims = min(old, old + available - replicas)
        old -= victims
        deleted_at += [now] * victims
        observe()
        starting = min(replicas - available, replicas + surge - old - available)
        observe()
    return peak_total, peak_terminating


@settings(max_examples=300, derandomize=True, database=None)
@given(replicas=st.integers(1, 20), surge=st.integers(1, 25), grace=st.integers(0, 120), step=st.integers(0, 60))
def test_should_count_exactly_the_terminating_pods_a_rollout_can_leave(
    replicas: int, surge: int, grace: int, step: int
) -> None:
    peak_total, peak_terminating = rolling_update(replicas, surge, grace, step)
    terminating = terminating_pods(replicas, surge, grace, step)
    assert peak_terminating == terminating
    assert peak_total <= replicas + min(surge, replicas) + terminating


@pytest.mark.parametrize("max_replicas", range(1, 21))
def test_should_render_a_quota_equal_to_the_arithmetic_for_1_to_20_max_replicas(
    max_replicas: int, render_overlay: Callable[..., Render], budget: Budget
) -> None:
    render = render_overlay("production", {"autoscaling": {"minReplicas": min(2, max_replicas),
                                                           "maxReplicas": max_replicas}})
    findings = guard.check(CheckContext("production", budget, render.manifests))
    assert [(f.rule, f.field, f.expected, f.actual) for f in findings] == []
    quota = render.manifests.get("ResourceQuota").doc["spec"]["hard"]
    # maxReplicas + 1 surge + min(maxReplicas, 7 terminating) + the helm test pod
    assert int(quota["pods"]) == max_replicas + 1 + min(max_replicas, 7) + 1


# The overlay fixture rewrites one file per example, so sharing it across examples is safe.
@settings(max_examples=12, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(max_replicas=st.integers(1, 20), surge=st.sampled_from([1, 2, 3, "25%", "50%", "100%"]),
       grace=st.integers(6, 120), min_ready=st.integers(0, 30), delay=st.integers(0, 10))
def test_should_render_the_arithmetic_for_any_rollout_settings(
    render_values: Callable[[dict[str, Any]], Render], budget: Budget, max_replicas: int, surge: Any, grace: int,
    min_ready: int, delay: int
) -> None:
    render = render_values({
        "autoscaling": {"minReplicas": 1, "maxReplicas": max_replicas}, "rollout": {"maxSurge": surge,
                                                                                     "minReadySeconds": min_ready},
        "terminationGracePeriodSeconds": grace, "probes": {"readiness": {"initialDelaySeconds": delay}},
    })
    findings = guard.check(CheckContext("production", budget, render.manifests))
    assert [(f.rule, f.field, f.expected, f.actual) for f in findings] == []


@pytest.fixture
def render_values(render_overlay: Callable[..., Render]) -> Callable[[dict[str, Any]], Render]:
    return lambda overlay: render_overlay("production", overlay)


# -- equal to the budget, valid for Kubernetes ------------------------------------------------------------------


def guard_findings(render: Render, budget: Budget) -> list[tuple[Any, ...]]:
    found = guard.check(CheckContext(render.environment, budget, render.manifests))
    return [(f.rule, f.resource, f.field, f.expected, f.actual) for f in found]


def test_should_carry_the_development_budget_when_turned_on_there(
    render_overlay: Callable[..., Render], budget: Budget
) -> None:
    render = render_overlay("development", {"budgetGuard": {"enabled": True}})
    test_pod = "Pod/prompted-forge-mcp-budget-test"
    # Equal to the budget, but development's 200m pod limit is below the helm test pod's 500m: turning the
    # guard on there needs a smaller test pod, and the rule says so.
    assert guard_findings(render, budget_with("development", admissionGuards=True)) == [
        ("guard.limitrange-admits", test_pod, "spec.containers[0].resources.limits.cpu", "<= 200m", "500m"),
        ("guard.limitrange-admits", test_pod, "spec.containers[*].resources.limits.cpu", "<= 200m", "500m"),
    ]


def test_should_render_no_guard_in_development(render_env: Callable[[str], Render]) -> None:
    assert [m.ref for m in render_env("development").manifests if m.kind in GUARD_KINDS] == []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_should_be_strictly_valid_for_every_supported_kubernetes(
    environment: str, render_env: Callable[[str], Render]
) -> None:
    guards = [m for m in render_env(environment).manifests if m.kind in GUARD_KINDS]
    assert sorted(m.kind for m in guards) == sorted(GUARD_KINDS)
    versions = chart_kube_versions()
    assert versions[0] == "1.31" and versions[-1] == "1.35"
    assert validate_manifests(guards, versions, environment) == []


def test_should_move_the_guards_with_the_budget(render_overlay: Callable[..., Render]) -> None:
    moved = {"requests": {"cpu": "300m", "memory": "256Mi"}, "limits": {"cpu": "1000m", "memory": "1Gi"}}
    render = render_overlay("production", {"budgetGuard": moved})
    limit_range = render.manifests.get("LimitRange").doc["spec"]["limits"][0]
    assert limit_range["defaultRequest"]["cpu"] == "300m"
    quota = render.manifests.get("ResourceQuota").doc["spec"]["hard"]
    assert parse_resource("cpu", quota["requests.cpu"]) == Decimal("4.0")  # 13 x 300m + the test pod's 100m
    assert guard_findings(render, budget_with("production", resources=moved)) == []


def test_should_render_the_ratio_a_failing_requests_floor_implies(render_overlay: Callable[..., Render]) -> None:
    render = render_overlay("staging", {"budgetGuard": {"requestsFloorPercent": 30}})
    ratio = render.manifests.get("LimitRange").doc["spec"]["limits"][1]["maxLimitRequestRatio"]
    assert ratio == {"cpu": "16667m", "memory": "13334m"}  # 500m / 30m and 512Mi / 38.4Mi, rounded up
    budget = budget_with("staging", requestsFloor={"percentOfBudget": 30, "severity": "failure"})
    assert guard_findings(render, budget) == []
    assert guard.implied_ratios(budget, "staging") == {"cpu": Decimal("16.667"), "memory": Decimal("13.334")}


def test_should_fail_the_render_when_the_guard_requests_exceed_its_limits(
    render_overlay: Callable[..., Render]
) -> None:
    with pytest.raises(Exception, match="budgetGuard.requests.cpu must not exceed budgetGuard.limits.cpu"):
        render_overlay("production", {"budgetGuard": {"requests": {"cpu": "1001m"}}})


def test_should_keep_the_manifest_index_lookup_of_guards(render_env: Callable[[str], Render]) -> None:
    manifests: ManifestIndex = render_env("production").manifests
    assert manifests.get("ResourceQuota").name == manifests.get("LimitRange").name == "prompted-forge-mcp-budget"
