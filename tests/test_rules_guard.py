"""Namespace guard rules: the LimitRange and ResourceQuota equal the budget and admit the chart's own pods.

Every case starts from the real production render (guards on, passing) and
changes one thing; the expected findings are listed exactly as
(rule, resource, field, expected, actual), and each is at its field's line in the render written to a file
(tests/rulekit.py: located_findings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from builders import budget_with
from rulekit import app_container, editable_docs, find_doc, located_findings

from policies.checks.rules import guard
from policies.render.render import Render

Docs = list[dict[str, Any]]
QUOTA = "ResourceQuota/prompted-forge-mcp-budget"
LIMITS = "LimitRange/prompted-forge-mcp-budget"
APP = "Deployment/prompted-forge-mcp"
TEST_POD = "Pod/prompted-forge-mcp-budget-test"


def findings(docs: Docs, environment: str = "production", budget: Any = None) -> list[tuple[str, ...]]:
    """Every finding, in order; each is also asserted at its field's line in the documents written to a file."""
    found = located_findings([guard.check], docs, environment=environment, budget=budget)
    return [(f.rule, f.resource, f.field, f.expected, f.actual) for f in found]


def quota(docs: Docs) -> dict[str, Any]:
    return find_doc(docs, "ResourceQuota")["spec"]["hard"]


def limit_item(docs: Docs, kind: str) -> dict[str, Any]:
    return next(i for i in find_doc(docs, "LimitRange")["spec"]["limits"] if i["type"] == kind)


def helm_test_container(docs: Docs) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Pod")["spec"]["containers"][0]


@pytest.fixture
def production(render_env: Callable[[str], Render]) -> Docs:
    return editable_docs(render_env("production"))


def test_should_find_nothing_in_the_shipped_environments(rendered: Render, budget: Any) -> None:
    assert findings(editable_docs(rendered), rendered.environment, budget) == []


def test_should_print_the_production_quota_arithmetic(render_env: Callable[[str], Render], budget: Any) -> None:
    plan = guard.budget_quota_plan(render_env("production").manifests, budget, "production")
    assert plan.explain() == [
        "Deployment/prompted-forge-mcp: 6 maxReplicas + 1 maxSurge + 6 terminating = 13 pods (a replacement "
        "step takes at least 5 s, so the 30 s grace period overlaps floor(30 / 5) + 1 = 7 steps of 1 pod(s), "
        "at most the 6 old pods)",
        "Pod/prompted-forge-mcp-budget-test: 1 pod at its own resources",
        "pods = 13 + 1 = 14",
        "requests.cpu = 13 x 250m + 100m = 3350m",
        "requests.memory = 13 x 256Mi + 64Mi = 3392Mi",
        "limits.cpu = 13 x 1000m + 500m = 13500m",
        "limits.memory = 13 x 1Gi + 128Mi = 13440Mi",
    ]


# -- the quota ---------------------------------------------------------------------------------------------------


def test_should_fail_a_quota_one_pod_short_naming_the_number(production: Docs) -> None:
    quota(production)["pods"] = "13"
    assert findings(production) == [
        ("guard.quota-admits", QUOTA, "spec.hard.pods", ">= 14", "13"),
        ("guard.equals-budget", QUOTA, "spec.hard.pods", "14", "13"),
    ]


def test_should_fail_a_quota_one_millicore_short_written_as_the_cpu_alias(production: Docs) -> None:
    del quota(production)["requests.cpu"]
    quota(production)["cpu"] = "3349m"
    assert findings(production) == [
        ("guard.quota-admits", QUOTA, "spec.hard.cpu", ">= 3350m", "3349m"),
        ("guard.equals-budget", QUOTA, "spec.hard.cpu", "3350m", "3349m"),
    ]


def test_should_accept_the_quota_in_other_units_of_the_same_amount(production: Docs) -> None:
    quota(production).update({"requests.cpu": "3.35", "limits.memory": str(13440 * 2**20)})
    assert findings(production) == []


def test_should_fail_a_quota_larger_than_the_budget_as_not_equal_only(production: Docs) -> None:
    quota(production)["limits.memory"] = "13441Mi"
    assert findings(production) == [("guard.equals-budget", QUOTA, 'spec.hard["limits.memory"]', "13440Mi", "13441Mi")]


def test_should_size_the_quota_from_the_autoscalers_maximum(production: Docs) -> None:
    find_doc(production, "HorizontalPodAutoscaler")["spec"]["maxReplicas"] = 7
    # 7 + 1 surge + 7 terminating + 1 test pod = 16; each service pod at the budget.
    assert findings(production) == [
        ("guard.quota-admits", QUOTA, "spec.hard.pods", ">= 16", "14"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.cpu"]', ">= 3850m", "3350m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.memory"]', ">= 3904Mi", "3392Mi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.cpu"]', ">= 15500m", "13500m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.memory"]', ">= 15488Mi", "13440Mi"),
        ("guard.equals-budget", QUOTA, "spec.hard.pods", "16", "14"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.cpu"]', "3850m", "3350m"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.memory"]', "3904Mi", "3392Mi"),
        ("guard.equals-budget", QUOTA, 'spec.hard["limits.cpu"]', "15500m", "13500m"),
        ("guard.equals-budget", QUOTA, 'spec.hard["limits.memory"]', "15488Mi", "13440Mi"),
    ]


def test_should_count_fewer_terminating_pods_when_a_replacement_step_is_slower(production: Docs) -> None:
    # Steps of 10 s: a 30 s grace period overlaps floor(30 / 10) + 1 = 4 steps, so 6 + 1 + 4 + 1 = 12 pods.
    find_doc(production, "Deployment")["spec"]["minReadySeconds"] = 10
    # Two pods fewer: the quota the budget asks for shrinks by two pods' requests and limits too.
    assert findings(production) == [
        ("guard.equals-budget", QUOTA, "spec.hard.pods", "12", "14"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.cpu"]', "2850m", "3350m"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.memory"]', "2880Mi", "3392Mi"),
        ("guard.equals-budget", QUOTA, 'spec.hard["limits.cpu"]', "11500m", "13500m"),
        ("guard.equals-budget", QUOTA, 'spec.hard["limits.memory"]', "11392Mi", "13440Mi"),
    ]


def test_should_count_every_old_pod_terminating_when_nothing_slows_a_replacement(production: Docs) -> None:
    find_doc(production, "Deployment")["spec"]["minReadySeconds"] = 0
    assert findings(production) == []  # 6 old pods: the maximum already


def test_should_count_the_test_pod_from_its_rendered_resources(production: Docs) -> None:
    # A limit with no request: the API server copies the limit into the request.
    helm_test_container(production)["resources"] = {"limits": {"cpu": "500m", "memory": "128Mi"}}
    assert findings(production) == [
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.cpu"]', ">= 3750m", "3350m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.memory"]', ">= 3456Mi", "3392Mi"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.cpu"]', "3750m", "3350m"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.memory"]', "3456Mi", "3392Mi"),
    ]


def test_should_fail_a_scoped_quota_that_leaves_pods_unguarded(production: Docs) -> None:
    find_doc(production, "ResourceQuota")["spec"]["scopes"] = ["NotBestEffort"]
    assert findings(production) == [("guard.equals-budget", QUOTA, "spec.scopes", "unset", "['NotBestEffort']")]


def test_should_warn_that_a_quota_cannot_be_judged_for_a_daemonset(production: Docs) -> None:
    daemonset = {**find_doc(production, "Deployment"), "kind": "DaemonSet"}
    daemonset["metadata"] = {**daemonset["metadata"], "name": "agent"}
    production.append(daemonset)
    found = located_findings([guard.check], production)
    assert [(f.rule, f.severity.value, f.resource, f.expected, f.actual) for f in found] == [
        ("guard.quota-admits", "warning", "DaemonSet/agent", "a workload with a replica count", "DaemonSet"),
    ]


# -- the LimitRange ----------------------------------------------------------------------------------------------


def test_should_fail_a_container_one_mebibyte_over_the_max(production: Docs) -> None:
    app_container(production)["resources"]["limits"]["memory"] = "1025Mi"
    path = "spec.template.spec"
    # The container, the pod, and a full rollout at maximum scale that no longer fits the quota.
    assert findings(production) == [
        ("guard.limitrange-admits", APP, f"{path}.containers[0].resources.limits.memory", "<= 1Gi", "1025Mi"),
        ("guard.limitrange-admits", APP, f"{path}.containers[*].resources.limits.memory", "<= 1Gi", "1025Mi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.memory"]', ">= 13453Mi", "13440Mi"),
    ]


def test_should_admit_a_container_exactly_at_the_max_in_bytes(production: Docs) -> None:
    app_container(production)["resources"]["limits"]["memory"] = str(2**30)
    assert findings(production) == []


def test_should_refuse_an_injected_container_that_states_no_resources(production: Docs) -> None:
    pod = find_doc(production, "Deployment")["spec"]["template"]["spec"]
    pod["containers"].append({"name": "mesh-proxy", "image": "proxy:1"})
    path = "spec.template.spec.containers[*].resources"
    assert findings(production) == [
        ("guard.limitrange-admits", APP, f"{path}.limits.cpu", "<= 1000m", "2000m"),
        ("guard.limitrange-admits", APP, f"{path}.limits.memory", "<= 1Gi", "2Gi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.cpu"]', ">= 6600m", "3350m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.memory"]', ">= 6720Mi", "3392Mi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.cpu"]', ">= 26500m", "13500m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.memory"]', ">= 26752Mi", "13440Mi"),
    ]


def test_should_judge_a_pod_by_its_largest_init_container(production: Docs) -> None:
    pod = find_doc(production, "Deployment")["spec"]["template"]["spec"]
    pod["initContainers"] = [{"name": "migrate", "image": "m:1",
                              "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                            "limits": {"cpu": "1000m", "memory": "1025Mi"}}}]
    path = "spec.template.spec"
    assert findings(production) == [
        ("guard.limitrange-admits", APP, f"{path}.initContainers[0].resources.limits.memory", "<= 1Gi", "1025Mi"),
        ("guard.limitrange-admits", APP, f"{path}.containers[*].resources.limits.memory", "<= 1Gi", "1025Mi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.memory"]', ">= 13453Mi", "13440Mi"),
    ]


def test_should_add_a_native_sidecar_to_the_running_pod(production: Docs) -> None:
    pod = find_doc(production, "Deployment")["spec"]["template"]["spec"]
    pod["initContainers"] = [{"name": "shipper", "image": "s:1", "restartPolicy": "Always",
                              "resources": {"requests": {"cpu": "1m", "memory": "1Mi"},
                                            "limits": {"cpu": "1m", "memory": "1Mi"}}}]
    path = "spec.template.spec.containers[*].resources"
    assert findings(production) == [
        ("guard.limitrange-admits", APP, f"{path}.limits.cpu", "<= 1000m", "1001m"),
        ("guard.limitrange-admits", APP, f"{path}.limits.memory", "<= 1Gi", "1025Mi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.cpu"]', ">= 3363m", "3350m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["requests.memory"]', ">= 3405Mi", "3392Mi"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.cpu"]', ">= 13513m", "13500m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.memory"]', ">= 13453Mi", "13440Mi"),
    ]


def test_should_judge_pod_level_resources_when_set(production: Docs) -> None:
    pod = find_doc(production, "Deployment")["spec"]["template"]["spec"]
    pod["resources"] = {"limits": {"cpu": "1001m"}}
    assert findings(production) == [
        ("guard.limitrange-admits", APP, "spec.template.spec.resources.limits.cpu", "<= 1000m", "1001m"),
        ("guard.quota-admits", QUOTA, 'spec.hard["limits.cpu"]', ">= 13513m", "13500m"),
    ]


FAILING_FLOOR = {"percentOfBudget": 50, "severity": "failure"}


def with_floor_ratio(docs: Docs) -> Docs:
    """The LimitRange as the chart renders it with budgetGuard.requestsFloorPercent 50: limit / (50% x request)."""
    limit_item(docs, "Pod")["maxLimitRequestRatio"] = {"cpu": "8", "memory": "8"}
    return docs


def test_should_imply_a_ratio_only_where_falling_below_the_requests_floor_fails(production: Docs) -> None:
    budget = budget_with("production", requestsFloor=FAILING_FLOOR)
    assert findings(production, budget=budget) == [
        ("guard.equals-budget", LIMITS, "spec.limits[1].maxLimitRequestRatio.cpu", "8", "unset"),
        ("guard.equals-budget", LIMITS, "spec.limits[1].maxLimitRequestRatio.memory", "8", "unset"),
    ]
    assert findings(with_floor_ratio(production), budget=budget) == []


def test_should_refuse_a_pod_requesting_under_a_failing_floor_and_admit_one_at_it(production: Docs) -> None:
    budget = budget_with("production", requestsFloor=FAILING_FLOOR)
    with_floor_ratio(production)
    app_container(production)["resources"]["requests"]["cpu"] = "125m"  # 1000m / 125m = 8: at the floor
    assert findings(production, budget=budget) == []
    app_container(production)["resources"]["requests"]["cpu"] = "124m"  # 1000m / 124m = 8.065
    assert findings(production, budget=budget) == [
        ("guard.limitrange-admits", APP, "spec.template.spec.containers[*].resources.limits.cpu", "<= 8", "8.065"),
    ]


# -- equal to the budget -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "field", "resource", "value", "expected", "actual"), [
    ("Container", "max", "cpu", "1001m", "1000m", "1001m"),
    ("Container", "default", "memory", "1023Mi", "1Gi", "1023Mi"),
    ("Container", "defaultRequest", "cpu", "249m", "250m", "249m"),
    ("Pod", "max", "memory", "2Gi", "1Gi", "2Gi"),
    ("Pod", "maxLimitRequestRatio", "cpu", "5", "unset", "5"),
], ids=["container-max", "default", "default-request", "pod-max", "ratio"])
def test_should_fail_a_limit_range_number_that_differs_from_the_budget(
    production: Docs, kind: str, field: str, resource: str, value: str, expected: str, actual: str
) -> None:
    limit_item(production, kind).setdefault(field, {})[resource] = value
    index = 0 if kind == "Container" else 1
    assert findings(production) == [
        ("guard.equals-budget", LIMITS, f"spec.limits[{index}].{field}.{resource}", expected, actual),
    ]


def test_should_accept_the_budget_written_in_other_units(production: Docs) -> None:
    limit_item(production, "Container")["max"]["cpu"] = "1"
    limit_item(production, "Pod")["max"]["memory"] = str(2**30)
    assert findings(production) == []


def test_should_move_with_the_budget(production: Docs) -> None:
    budget = budget_with("production", resources={"requests": {"cpu": "300m", "memory": "256Mi"},
                                                  "limits": {"cpu": "1000m", "memory": "1Gi"}})
    assert findings(production, budget=budget) == [
        ("guard.equals-budget", LIMITS, "spec.limits[0].defaultRequest.cpu", "300m", "250m"),
        ("guard.equals-budget", QUOTA, 'spec.hard["requests.cpu"]', "4000m", "3350m"),
    ]


# -- present where the budget asks ---------------------------------------------------------------------------------


def test_should_fail_production_without_guards(production: Docs) -> None:
    production[:] = [d for d in production if d["kind"] not in ("LimitRange", "ResourceQuota")]
    assert findings(production) == [
        ("guard.present", "LimitRange", None, "present", "missing"),
        ("guard.present", "ResourceQuota", None, "present", "missing"),
    ]


def test_should_fail_guards_in_development(production: Docs, render_env: Callable[[str], Render]) -> None:
    development = editable_docs(render_env("development"))
    development += [d for d in production if d["kind"] in ("LimitRange", "ResourceQuota")]
    # Present where the budget asks for none, and (being production's) unequal to development's budget.
    limit = "spec.limits"
    assert findings(development, "development") == [
        ("guard.present", LIMITS, None, "absent", "present"),
        ("guard.present", QUOTA, None, "absent", "present"),
        *[("guard.equals-budget", LIMITS, f"{limit}{field}", budget, found) for field, budget, found in (
            ("[0].max.cpu", "200m", "1000m"), ("[0].max.memory", "256Mi", "1Gi"),
            ("[0].default.cpu", "200m", "1000m"), ("[0].default.memory", "256Mi", "1Gi"),
            ("[0].defaultRequest.cpu", "50m", "250m"), ("[0].defaultRequest.memory", "64Mi", "256Mi"),
            ("[1].max.cpu", "200m", "1000m"), ("[1].max.memory", "256Mi", "1Gi"))],
        *[("guard.equals-budget", QUOTA, field, budget, found) for field, budget, found in (
            ("spec.hard.pods", "4", "14"), ('spec.hard["requests.cpu"]', "250m", "3350m"),
            ('spec.hard["requests.memory"]', "256Mi", "3392Mi"), ('spec.hard["limits.cpu"]', "1100m", "13500m"),
            ('spec.hard["limits.memory"]', "896Mi", "13440Mi"))],
    ]
