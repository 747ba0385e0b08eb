"""Rollout and pod rules for every workload kind the chart or --manifests can bring.

Each case is written to a file as `check --manifests` reads it and compared as the full list of
(rule, resource, field, file, line, expected, actual), the line read back from the written file (tests/rulekit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import container, context, deployment, pod
from rulekit import RuleCase
from workloads import cronjob, daemonset, job, statefulset

from policies.checks.rules import ephemeral, probes, rollout, timing

ROLLING = "spec.updateStrategy.rollingUpdate"
STATEFULSET, DAEMONSET = "StatefulSet/prompted-forge-mcp", "DaemonSet/prompted-forge-mcp"
NO_SURGE = "0 (needs a surge pod, which a StatefulSet cannot create)"
Expect = Callable[..., None]


@pytest.fixture
def expect(tmp_path: Path) -> Expect:
    """The check's findings on the documents are exactly `expected` (rule, resource, field, expected, actual),
    each at its line. development by default: minReplicas 1, so only the strategy speaks unless a case is
    about replicas."""
    def run(check: Callable, *docs: dict[str, Any], expected: list[tuple[str, ...]],
            environment: str = "development") -> None:
        case = RuleCase(tmp_path, docs, environment=environment)
        assert case.found(check, also=("expected", "actual")) == case.at(*expected)
    return run


# -- StatefulSet -------------------------------------------------------------------------------------------------
def test_should_fail_a_statefulset_rolling_update_because_it_cannot_surge(expect):
    expect(rollout.check, statefulset({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}, replicas=1),
           expected=[("rollout.max-unavailable", STATEFULSET, f"{ROLLING}.maxUnavailable", NO_SURGE, "2")])
    [finding] = rollout.check(context(statefulset(replicas=1), environment="development"))
    assert "a StatefulSet cannot surge" in finding.message


def test_should_fail_a_statefulset_with_the_default_strategy(expect):
    # Nothing written: the finding points at the nearest written parent, the StatefulSet's spec.
    expect(rollout.check, statefulset(replicas=1),
           expected=[("rollout.max-unavailable", STATEFULSET, f"{ROLLING}.maxUnavailable", NO_SURGE, "1")])


def test_should_fail_a_statefulset_that_never_rolls_out(expect):
    expect(rollout.check, statefulset({"type": "OnDelete"}, replicas=1),
           expected=[("rollout.strategy", STATEFULSET, "spec.updateStrategy.type", "RollingUpdate", "OnDelete")])


def test_should_fail_a_statefulset_partition(expect):
    expect(rollout.check, statefulset({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}, replicas=1),
           expected=[("rollout.strategy", STATEFULSET, f"{ROLLING}.partition", "0", "1"),
                     ("rollout.max-unavailable", STATEFULSET, f"{ROLLING}.maxUnavailable", NO_SURGE, "1")])


def test_should_apply_replica_minimums_to_a_statefulset(expect):
    expect(rollout.check, statefulset({"type": "OnDelete"}, replicas=1), environment="production",
           expected=[("rollout.strategy", STATEFULSET, "spec.updateStrategy.type", "RollingUpdate", "OnDelete"),
                     ("rollout.min-replicas", STATEFULSET, "spec.replicas", ">= 2", "1")])


# -- DaemonSet ---------------------------------------------------------------------------------------------------
def test_should_pass_a_zero_downtime_daemonset_surge_rollout_in_production(expect):
    # No replica count: the production minimum of 2 replicas does not apply (it used to be a false alarm).
    doc = daemonset({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    expect(rollout.check, doc, environment="production", expected=[])


def test_should_pass_a_daemonset_surge_given_as_a_percentage(expect):
    doc = daemonset({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "10%", "maxUnavailable": "0%"}})
    expect(rollout.check, doc, environment="production", expected=[])


def test_should_fail_a_daemonset_with_the_default_strategy(expect):
    expect(rollout.check, daemonset(), expected=[
        ("rollout.max-unavailable", DAEMONSET, f"{ROLLING}.maxUnavailable", "0", "1"),
        ("rollout.max-surge", DAEMONSET, f"{ROLLING}.maxSurge", ">= 1", "0"),
    ])


@pytest.mark.parametrize(("rolling", "expected"), [
    ({"maxSurge": 1, "maxUnavailable": 1}, ("rollout.max-unavailable", "maxUnavailable", "0", "1")),
    ({"maxSurge": 1, "maxUnavailable": "1%"}, ("rollout.max-unavailable", "maxUnavailable", "0", "1%")),
    ({"maxSurge": 0, "maxUnavailable": 0}, ("rollout.max-surge", "maxSurge", ">= 1", "0")),
    ({"maxSurge": "0%", "maxUnavailable": 0}, ("rollout.max-surge", "maxSurge", ">= 1", "0%")),
], ids=["unavailable-one", "unavailable-percent", "no-surge", "no-surge-percent"])
def test_should_fail_a_daemonset_rollout_that_takes_a_node_pod_away(expect, rolling, expected):
    rule, key, limit, actual = expected
    expect(rollout.check, daemonset({"type": "RollingUpdate", "rollingUpdate": rolling}),
           expected=[(rule, DAEMONSET, f"{ROLLING}.{key}", limit, actual)])


def test_should_fail_a_daemonset_that_never_rolls_out(expect):
    expect(rollout.check, daemonset({"type": "OnDelete"}),
           expected=[("rollout.strategy", DAEMONSET, "spec.updateStrategy.type", "RollingUpdate", "OnDelete")])


# -- Jobs and CronJobs: resources and security, never rollout or probes -----------------------------------------
@pytest.mark.parametrize("build", [job, cronjob], ids=["Job", "CronJob"])
@pytest.mark.parametrize("check", [rollout.check, probes.check, timing.check], ids=["rollout", "probes", "timing"])
def test_should_not_judge_rollout_or_probes_of_batch_workloads(expect, build, check):
    bare = container(livenessProbe=None, readinessProbe=None)
    expect(check, build(containers=[bare]), environment="production", expected=[])


# -- ephemeral containers ----------------------------------------------------------------------------------------
DEBUG = [{"name": "debugger", "image": "busybox:1.36"}]


@pytest.mark.parametrize(("doc", "path"), [
    (deployment(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (statefulset(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (daemonset(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (job(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (cronjob(spec={"ephemeralContainers": DEBUG}), "spec.jobTemplate.spec.template.spec"),
], ids=["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
def test_should_fail_ephemeral_containers_in_a_pod_template(expect, doc, path):
    ref = f"{doc['kind']}/{doc['metadata']['name']}"
    expect(ephemeral.check, doc,
           expected=[("pod.ephemeral-containers", ref, f"{path}.ephemeralContainers", "absent", "debugger")])
    [finding] = ephemeral.check(context(doc))
    assert finding.message.endswith("Forbidden: ephemeral containers not allowed in pod template")


def test_should_fail_ephemeral_containers_in_a_pod_manifest_with_the_create_reason(expect):
    doc = pod(spec={"ephemeralContainers": DEBUG})
    expect(ephemeral.check, doc, expected=[
        ("pod.ephemeral-containers", f"Pod/{doc['metadata']['name']}", "spec.ephemeralContainers", "absent",
         "debugger")])
    [finding] = ephemeral.check(context(doc))
    assert finding.message.endswith("Forbidden: cannot be set on create")


def test_should_pass_a_pod_template_without_ephemeral_containers(expect):
    expect(ephemeral.check, deployment(spec={"ephemeralContainers": []}), job(), expected=[])
