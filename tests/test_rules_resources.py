"""Resources as Kubernetes computes them: every container kind, the effective pod figures, overhead and a floor.

Production's budget (policies/budget.yaml): requests 250m / 256Mi, limits 1000m / 1Gi, floor 50 % of requests.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import budget_with, container, context, deployment, pod, resources
from rulekit import located_findings
from workloads import cronjob, job, runtime_class

from policies.checks.rules import resources as rule
from policies.checks.rules._pods import effective_resources, pod_containers
from policies.core.quantity import parse_cpu, parse_memory
from policies.render.manifests import Manifest

POD = "spec.template.spec"
PRODUCTION = dict(cpu="250m", memory="256Mi", cpu_limit="1000m", memory_limit="1Gi")


def sized(name: str, cpu: str, memory: str, cpu_limit: str | None = None, memory_limit: str | None = None,
          **overrides: Any) -> dict[str, Any]:
    limits = {k: v for k, v in (("cpu", cpu_limit or cpu), ("memory", memory_limit or memory))}
    return container(name, resources={"requests": {"cpu": cpu, "memory": memory}, "limits": limits}, **overrides)


def sidecar(name: str, cpu: str, memory: str, **kwargs: Any) -> dict[str, Any]:
    return sized(name, cpu, memory, restartPolicy="Always", **kwargs)


def app(**sizes: str) -> dict[str, Any]:
    return container(resources=resources(**{**PRODUCTION, **sizes}))


def findings(*docs: dict[str, Any], **kwargs: Any) -> list[tuple[str | None, ...]]:
    """Every finding, in order; each is also asserted at its field's line in the documents written to a file."""
    return [(f.rule, f.severity.value, f.resource, f.container, f.field, f.expected, f.actual)
            for f in located_findings([rule.check], docs, **kwargs)]


# -- the formula, worked by hand -----------------------------------------------------------------------------
# Expected figures follow https://kubernetes.io/docs/concepts/resource-management/effective-pod-requests-limits/
# and https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers :
# effective = max(sum(app) + sum(all sidecars), max over init containers of (init + sidecars listed before it))
#             + pod overhead (https://kubernetes.io/docs/concepts/scheduling-eviction/pod-overhead/).
# A limit left unset is no limit (unbounded); a request left unset takes the limit.
def c(name: str, cpu: str | None, cpu_limit: str | None, restart: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "resources": {"requests": {}, "limits": {}}}
    if cpu is not None:
        spec["resources"]["requests"]["cpu"] = cpu
    if cpu_limit is not None:
        spec["resources"]["limits"]["cpu"] = cpu_limit
    if restart:
        spec["restartPolicy"] = restart
    return spec


FORMULA = [
    # id, initContainers, containers, overhead cpu, effective request, effective limit, deciding phase (requests)
    ("one app", [], [c("a", "200m", "400m")], None, "200m", "400m", "running"),
    ("apps add up", [], [c("a", "200m", "400m"), c("b", "100m", "100m")], None, "300m", "500m", "running"),
    ("largest init wins", [c("i1", "1", "2"), c("i2", "2", "3")], [c("a", "250m", "1")], None, "2", "3", "init i2"),
    ("apps beat a small init", [c("i", "100m", "100m")], [c("a", "250m", "1")], None, "250m", "1", "running"),
    ("a sidecar runs for life", [c("s", "100m", "200m", "Always")], [c("a", "200m", "400m")], None,
     "300m", "600m", "running"),
    ("an init after a sidecar runs beside it", [c("s", "100m", "100m", "Always"), c("i", "500m", "500m")],
     [c("a", "200m", "200m")], None, "600m", "600m", "init i"),
    ("an init before a sidecar runs alone", [c("i", "500m", "500m"), c("s", "100m", "100m", "Always")],
     [c("a", "200m", "200m")], None, "500m", "500m", "init i"),
    ("two sidecars, init between them", [c("s1", "100m", "100m", "Always"), c("i", "300m", "300m"),
                                         c("s2", "50m", "50m", "Always")],
     [c("a", "200m", "200m")], None, "400m", "400m", "init i"),
    ("overhead on top", [], [c("a", "200m", "400m")], "50m", "250m", "450m", "running"),
    ("overhead on top of an init peak", [c("i", "1", "1")], [c("a", "200m", "400m")], "250m", "1250m", "1250m",
     "init i"),
    ("request defaults to the limit", [], [c("a", None, "300m")], None, "300m", "300m", "running"),
    ("no limit is unbounded", [], [c("a", "200m", None), c("b", "100m", "100m")], None, "300m", None, "running"),
    ("no request and no limit", [], [c("a", None, None)], None, "0", None, "running"),
]


@pytest.mark.parametrize(("init", "apps", "overhead", "want_request", "want_limit", "phase"),
                         [pytest.param(*case[1:], id=case[0]) for case in FORMULA])
def test_should_compute_effective_pod_figures_as_kubernetes_does(init, apps, overhead, want_request, want_limit,
                                                                 phase):
    doc = deployment(containers=apps, spec={"initContainers": init} if init else None)
    refs = pod_containers(Manifest(doc))
    extra = {"cpu": parse_cpu(overhead)} if overhead else {}
    figures = effective_resources(refs, extra)
    assert figures[("requests", "cpu")].amount == parse_cpu(want_request)
    assert figures[("requests", "cpu")].phase == phase
    assert figures[("limits", "cpu")].amount == (parse_cpu(want_limit) if want_limit else None)


def test_should_add_memory_overhead_too():
    refs = pod_containers(Manifest(deployment(containers=[sized("a", "100m", "100Mi")])))
    figures = effective_resources(refs, {"memory": parse_memory("20Mi")})
    assert figures[("requests", "memory")].amount == parse_memory("120Mi")
    assert figures[("limits", "memory")].amount == parse_memory("120Mi")


# -- init containers --------------------------------------------------------------------------------------------
def test_should_fail_an_init_container_over_the_budget():
    init = sized("migrate", "2", "4Gi")
    assert findings(deployment(containers=[app()], spec={"initContainers": [init]})) == [
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "migrate",
         f"{POD}.initContainers[0].resources.limits.cpu", "<= 1000m", "2000m"),
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "migrate",
         f"{POD}.initContainers[0].resources.limits.memory", "<= 1Gi", "4Gi"),
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "migrate",
         f"{POD}.initContainers[0].resources.requests.cpu", "<= 250m", "2000m"),
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "migrate",
         f"{POD}.initContainers[0].resources.requests.memory", "<= 256Mi", "4Gi"),
    ]


def test_should_pass_an_init_container_within_the_budget():
    init = sized("migrate", "250m", "256Mi", "1000m", "1Gi")
    assert findings(deployment(containers=[app()], spec={"initContainers": [init]})) == []


def test_should_name_the_init_container_and_the_excess_in_the_message():
    init = sized("migrate", "251m", "256Mi", "1000m", "1Gi")
    [finding] = rule.check(context(deployment(containers=[app()], spec={"initContainers": [init]})))
    assert finding.message == ("effective requests.cpu 251m exceeds the production budget of 250m by 1m while "
                               "init migrate runs; init migrate (251m) takes the pod from 0m over it")


def test_should_require_requests_and_limits_on_init_and_sidecar_containers():
    bare = container("migrate", resources={"requests": {"cpu": "10m", "memory": "10Mi"}, "limits": {"cpu": "10m"}})
    side = container("shipper", restartPolicy="Always", resources={"limits": {"cpu": "10m", "memory": "10Mi"}})
    roomy = app(cpu="200m", memory="200Mi", cpu_limit="900m", memory_limit="900Mi")
    got = findings(deployment(containers=[roomy], spec={"initContainers": [bare, side]}))
    assert [(f[0], f[3], f[4]) for f in got] == [
        ("resources.set", "migrate", f"{POD}.initContainers[0].resources.limits.memory"),
        ("resources.set", "shipper", f"{POD}.initContainers[1].resources.requests.cpu"),
        ("resources.set", "shipper", f"{POD}.initContainers[1].resources.requests.memory"),
    ]


# -- native sidecars --------------------------------------------------------------------------------------------
def test_should_fail_a_sidecar_that_pushes_the_pod_over_its_budget():
    shipper = sidecar("log-shipper", "10m", "16Mi")
    got = findings(deployment(containers=[app()], spec={"initContainers": [shipper]}))
    assert got == [
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "prompted-forge-mcp",
         f"{POD}.containers[0].resources.limits.cpu", "<= 1000m", "1010m"),
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "prompted-forge-mcp",
         f"{POD}.containers[0].resources.limits.memory", "<= 1Gi", "1040Mi"),
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "prompted-forge-mcp",
         f"{POD}.containers[0].resources.requests.cpu", "<= 250m", "260m"),
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "prompted-forge-mcp",
         f"{POD}.containers[0].resources.requests.memory", "<= 256Mi", "272Mi"),
    ]
    # The sidecar starts first, so the app container is the one that takes the pod over the line.
    first = next(rule.check(context(deployment(containers=[app()], spec={"initContainers": [shipper]}))))
    assert "by 10m; app prompted-forge-mcp (1000m) takes the pod from 10m over it" in first.message


def test_should_name_the_sidecar_when_it_comes_last():
    shipper = sized("log-shipper", "10m", "16Mi")  # an ordinary second app container, after the service
    got = findings(deployment(containers=[app(), shipper]))
    assert got == [
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", "log-shipper",
         f"{POD}.containers[1].resources.{kind}.{res}", expected, actual)
        for kind, res, expected, actual in (("limits", "cpu", "<= 1000m", "1010m"),
                                            ("limits", "memory", "<= 1Gi", "1040Mi"),
                                            ("requests", "cpu", "<= 250m", "260m"),
                                            ("requests", "memory", "<= 256Mi", "272Mi"))]


def test_should_pass_a_sidecar_within_the_budget_after_the_app_shrinks():
    shipper = sidecar("log-shipper", "10m", "16Mi")
    smaller = app(cpu="240m", memory="240Mi", cpu_limit="990m", memory_limit="1008Mi")
    assert findings(deployment(containers=[smaller], spec={"initContainers": [shipper]})) == []


# -- pod overhead -----------------------------------------------------------------------------------------------
def test_should_add_the_overhead_of_a_rendered_runtime_class():
    doc = deployment(containers=[app()], spec={"runtimeClassName": "kata"})
    got = findings(doc, runtime_class("kata", cpu="1m"))
    assert [(f[0], f[3], f[4], f[6]) for f in got] == [
        ("resources.within-budget", "prompted-forge-mcp", f"{POD}.containers[0].resources.limits.cpu", "1001m"),
        ("resources.within-budget", "prompted-forge-mcp", f"{POD}.containers[0].resources.requests.cpu", "251m"),
    ]


def test_should_pass_with_overhead_when_the_app_leaves_room():
    doc = deployment(containers=[app(cpu="249m", cpu_limit="999m")], spec={"runtimeClassName": "kata"})
    assert findings(doc, runtime_class("kata", cpu="1m")) == []


def test_should_take_the_overhead_the_budget_declares_for_the_runtime_class():
    budget = budget_with("production", runtimeClassOverhead={"gvisor": {"memory": "1Mi"}})
    doc = deployment(containers=[app()], spec={"runtimeClassName": "gvisor"})
    assert [(f[0], f[4], f[6]) for f in findings(doc, budget=budget)] == [
        ("resources.within-budget", f"{POD}.containers[0].resources.limits.memory", "1025Mi"),
        ("resources.within-budget", f"{POD}.containers[0].resources.requests.memory", "257Mi")]


def test_should_ignore_an_overhead_written_in_the_template():
    # Admission sets spec.overhead from the RuntimeClass; a template's own value never reaches the pod.
    doc = deployment(containers=[app()], spec={"overhead": {"cpu": "5"}})
    assert findings(doc) == []


def test_should_fail_a_runtime_class_whose_overhead_is_unknown():
    doc = deployment(containers=[app()], spec={"runtimeClassName": "mystery"})
    assert findings(doc) == [
        ("resources.runtime-class", "failure", "Deployment/prompted-forge-mcp", None, f"{POD}.runtimeClassName",
         "a RuntimeClass with a known overhead", "mystery")]


# -- pod-level resources ------------------------------------------------------------------------------------------
# https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#pod-level-resource-specification:
# spec.resources (beta, on by default from 1.34, inside the chart's 1.31-1.35 range) is the pod's own figure.
def test_should_judge_pod_level_resources_over_the_budget_at_their_line():
    doc = deployment(containers=[app()], spec={"resources": {"limits": {"cpu": "1001m"}}})
    assert findings(doc) == [
        ("resources.within-budget", "failure", "Deployment/prompted-forge-mcp", None, f"{POD}.resources.limits.cpu",
         "<= 1000m", "1001m")]


def test_should_pass_pod_level_resources_exactly_at_the_budget():
    assert findings(deployment(containers=[app()], spec={"resources": {"limits": {"cpu": "1000m"}}})) == []


# The API server wants pod-level requests at or above the containers' sum: small containers, the pod decides.
@pytest.mark.parametrize(("pod_memory", "expected"), [
    ("128Mi", []),
    ("127Mi", [("resources.under-budget", "warning", "Deployment/prompted-forge-mcp", None,
                f"{POD}.resources.requests.memory", ">= 128Mi", "127Mi")]),
], ids=["at-the-floor", "one-mebibyte-under"])
def test_should_judge_the_floor_by_pod_level_requests_at_their_line(pod_memory, expected):
    doc = deployment(containers=[app(memory="60Mi")], spec={"resources": {"requests": {"memory": pod_memory}}})
    assert findings(doc) == expected


# -- every workload kind ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("build", "path"), [(job, "spec.template.spec"),
                                              (cronjob, "spec.jobTemplate.spec.template.spec")],
                         ids=["Job", "CronJob"])
def test_should_budget_jobs_and_cronjobs(build, path):
    doc = build(containers=[app(memory_limit="1025Mi")])
    assert [(f[0], f[2], f[4], f[6]) for f in findings(doc)] == [
        ("resources.within-budget", f"{doc['kind']}/{doc['metadata']['name']}",
         f"{path}.containers[0].resources.limits.memory", "1025Mi")]


def test_should_not_budget_a_helm_test_hook_pod():
    assert findings(deployment(containers=[app()]), pod(containers=[sized("t", "2", "4Gi")])) == []


# -- the floor ---------------------------------------------------------------------------------------------------
def test_should_warn_when_production_runs_at_development_size():
    got = findings(deployment(containers=[container(resources=resources())]))
    assert got == [
        ("resources.under-budget", "warning", "Deployment/prompted-forge-mcp", None,
         f"{POD}.containers[*].resources.requests.cpu", ">= 125m", "50m"),
        ("resources.under-budget", "warning", "Deployment/prompted-forge-mcp", None,
         f"{POD}.containers[*].resources.requests.memory", ">= 128Mi", "64Mi"),
    ]


def test_should_accept_requests_exactly_at_the_floor():
    assert findings(deployment(containers=[app(cpu="125m", memory="128Mi")])) == []


def test_should_warn_one_unit_below_the_floor():
    got = findings(deployment(containers=[app(cpu="124m", memory="134217727")]))
    assert [(f[0], f[4], f[6]) for f in got] == [
        ("resources.under-budget", f"{POD}.containers[*].resources.requests.cpu", "124m"),
        ("resources.under-budget", f"{POD}.containers[*].resources.requests.memory", "134217727")]


def test_should_let_the_budget_make_the_floor_a_failure():
    budget = budget_with("production", requestsFloor={"severity": "failure", "percentOfBudget": 80})
    got = findings(deployment(containers=[app(cpu="199m")]), budget=budget)
    assert got == [("resources.under-budget", "failure", "Deployment/prompted-forge-mcp", None,
                    f"{POD}.containers[*].resources.requests.cpu", ">= 200m", "199m")]


# -- the budget-use table ---------------------------------------------------------------------------------------
def test_should_show_effective_figures_in_the_budget_use_table():
    shipper = sidecar("log-shipper", "10m", "16Mi")
    doc = deployment(containers=[app(cpu="200m", cpu_limit=None)], spec={"initContainers": [shipper]})
    doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"].pop("cpu")
    rows = {(r["kind"], r["name"]): (r["actual"], r["percent"]) for r in rule.usage(context(doc))}
    assert rows == {("requests", "cpu"): ("210m", 84.0), ("requests", "memory"): ("272Mi", 106.2),
                    ("limits", "cpu"): ("unbounded", None), ("limits", "memory"): ("1040Mi", 101.6)}
