"""The timing rules judge every container whose probes count, not only the service's.

A pod is Ready only when all its containers are, a native sidecar's probes count like an app container's, and a
startup or liveness probe kills whichever container it belongs to; every app container gets its SIGTERM after its
own preStop hook. So each rule is tried on a second app container and on a sidecar (an init container with
restartPolicy: Always) of the production render: exactly at the limit passes, one unit past fails, and the finding
names that container at its field's line (tests/rulekit.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rulekit import RuleCase, editable_docs, find_doc

from policies.checks.rules import timing
from policies.inputs.budget import load_budget

BUDGET = load_budget()
DEPLOYMENT = "Deployment/prompted-forge-mcp"
POD = "spec.template.spec"
# Production switches the enhanced features on: its boot target is the enhanced one.
T_BOOT = min(BUDGET["startup"]["features"]["enhancedBootSeconds"], BUDGET["startup"]["readySeconds"])
ALERT = BUDGET["regression"]["readinessAlertSeconds"]
ROLLOUT = BUDGET["rollout"]
MIN_READY = 5  # set on the Deployment by with_extra_containers, so the replacement arithmetic is known here
TARGETS = {"second": f"{POD}.containers[1]", "sidecar": f"{POD}.initContainers[0]"}
Docs = list[dict[str, Any]]
Edits = dict[str, Any]


def with_extra_containers(docs: Docs) -> dict[str, dict[str, Any]]:
    """Add a second app container and a native sidecar, each a copy of the service's container (so they pass),
    and return them by name."""
    deployment = find_doc(docs, "Deployment")
    deployment["spec"]["minReadySeconds"] = MIN_READY
    pod = deployment["spec"]["template"]["spec"]
    service = pod["containers"][0]
    second = copy.deepcopy(service) | {"name": "second"}
    sidecar = copy.deepcopy(service) | {"name": "sidecar", "restartPolicy": "Always"}
    pod["containers"].append(second)
    pod["initContainers"] = [sidecar, *(pod.get("initContainers") or [])]
    return {"second": second, "sidecar": sidecar}


def edit(container: dict[str, Any], edits: Edits) -> None:
    """Set dotted paths in a container (`-` deletes)."""
    for path, value in edits.items():
        node = container
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if value == "-":
            node.pop(last, None)
        else:
            node[last] = value


def no_startup(**edits: Any) -> Edits:
    return {"startupProbe": "-", **{key.replace("__", "."): value for key, value in edits.items()}}


# (id, edits exactly at the limit, the same one unit past it, rule, field under the container)
LIMITS = [
    ("readiness-delay", {"readinessProbe.initialDelaySeconds": T_BOOT},
     {"readinessProbe.initialDelaySeconds": T_BOOT + 1},
     "timing.boot-detection", "readinessProbe.initialDelaySeconds"),
    ("startup-delay", {"startupProbe.initialDelaySeconds": T_BOOT},
     {"startupProbe.initialDelaySeconds": T_BOOT + 1},
     "timing.boot-detection", "startupProbe.initialDelaySeconds"),
    ("startup-kills", {"startupProbe.periodSeconds": 1, "startupProbe.failureThreshold": ALERT},
     {"startupProbe.periodSeconds": 1, "startupProbe.failureThreshold": ALERT - 1},
     "timing.no-premature-kill", "startupProbe"),
    ("liveness-kills", no_startup(livenessProbe__periodSeconds=1, livenessProbe__failureThreshold=ALERT),
     no_startup(livenessProbe__periodSeconds=1, livenessProbe__failureThreshold=ALERT - 1),
     "timing.no-premature-kill", "livenessProbe"),
    # periodSeconds * successThreshold: a period of 1 keeps the stabilization time (period * failures) short.
    ("replacement-cadence",
     no_startup(readinessProbe__periodSeconds=1,
                readinessProbe__successThreshold=ROLLOUT["podReplacementSeconds"] - T_BOOT - MIN_READY),
     no_startup(readinessProbe__periodSeconds=1,
                readinessProbe__successThreshold=ROLLOUT["podReplacementSeconds"] - T_BOOT - MIN_READY + 1),
     "timing.pod-replacement", "readinessProbe.periodSeconds"),
    ("unready-detection",
     {"readinessProbe.periodSeconds": 1,
      "readinessProbe.failureThreshold": ROLLOUT["healthCheckStabilizationSeconds"]},
     {"readinessProbe.periodSeconds": 1,
      "readinessProbe.failureThreshold": ROLLOUT["healthCheckStabilizationSeconds"] + 1},
     "timing.stabilization", "readinessProbe"),
]


@pytest.fixture
def production(render_env: Any) -> Docs:
    return editable_docs(render_env("production"))


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize(("passing", "failing", "rule", "field"),
                         [pytest.param(*case[1:], id=case[0]) for case in LIMITS])
def test_should_judge_each_probed_container_at_the_limit(production, target, passing, failing, rule, field,
                                                         tmp_path):
    at_limit, past = production, copy.deepcopy(production)
    edit(with_extra_containers(at_limit)[target], passing)
    edit(with_extra_containers(past)[target], failing)
    (tmp_path / "limit").mkdir()
    (tmp_path / "past").mkdir()

    assert RuleCase(tmp_path / "limit", at_limit, budget=BUDGET).found(timing.check) == []
    case = RuleCase(tmp_path / "past", past, budget=BUDGET)
    assert case.found(timing.check, also=("container",)) == case.at(
        (rule, DEPLOYMENT, f"{TARGETS[target]}.{field}", target))


def test_should_need_the_prestop_sleep_on_every_app_container(production, tmp_path):
    docs = production
    extra = with_extra_containers(docs)
    switch = ROLLOUT["trafficSwitchSeconds"]
    edit(extra["second"], {"lifecycle.preStop": {"sleep": {"seconds": switch - 1}}})
    # A sidecar gets SIGTERM only after every app container has stopped: it needs no sleep of its own.
    edit(extra["sidecar"], {"lifecycle": "-"})
    case = RuleCase(tmp_path, docs, budget=BUDGET)

    assert case.found(timing.check, also=("container", "actual")) == case.at(
        ("timing.traffic-switch", DEPLOYMENT, f"{TARGETS['second']}.lifecycle.preStop", "second",
         f"{switch - 1}s"))


def test_should_pass_a_second_app_container_sleeping_exactly_the_switch_time(production, tmp_path):
    edit(with_extra_containers(production)["second"],
         {"lifecycle.preStop": {"sleep": {"seconds": ROLLOUT["trafficSwitchSeconds"]}}})
    assert RuleCase(tmp_path, production, budget=BUDGET).found(timing.check) == []


@pytest.mark.parametrize(("sleep_past_grace", "expected"), [(0, []), (1, ["second"])], ids=["at-limit", "past"])
def test_should_leave_the_longest_app_sleep_its_switch_time_in_the_grace_period(production, sleep_past_grace,
                                                                                expected, tmp_path):
    docs = production
    grace = find_doc(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    sleep = grace - ROLLOUT["trafficSwitchSeconds"] + sleep_past_grace
    edit(with_extra_containers(docs)["second"], {"lifecycle.preStop": {"sleep": {"seconds": sleep}}})
    case = RuleCase(tmp_path, docs, budget=BUDGET)

    assert case.found(timing.check, also=("container",)) == case.at(
        *[("timing.traffic-switch", DEPLOYMENT, f"{POD}.terminationGracePeriodSeconds", name) for name in expected])


def test_should_pass_extra_containers_without_probes(production, tmp_path):
    # No probe: ready from the moment it runs, never killed, never marked unready (pod-lifecycle "Types of probe").
    for container in with_extra_containers(production).values():
        edit(container, {"startupProbe": "-", "readinessProbe": "-", "livenessProbe": "-"})
    assert RuleCase(tmp_path, production, budget=BUDGET).found(timing.check) == []


def test_should_not_judge_ordinary_init_or_ephemeral_containers(production, tmp_path):
    # An ordinary init container runs to completion and takes no probes; an ephemeral one is a debug session.
    # Neither is judged, whatever a template writes into them.
    pod = find_doc(production, "Deployment")["spec"]["template"]["spec"]
    bad = copy.deepcopy(pod["containers"][0]) | {"name": "bad"}
    edit(bad, {"startupProbe.failureThreshold": 1, "readinessProbe.initialDelaySeconds": 600,
               "readinessProbe.failureThreshold": 100, "lifecycle": "-"})
    pod["initContainers"] = [bad]
    pod["ephemeralContainers"] = [copy.deepcopy(bad) | {"name": "debug"}]
    assert RuleCase(tmp_path, production, budget=BUDGET).found(timing.check) == []
