"""Rollout and pod rules for every workload kind the chart or --manifests can bring."""

from __future__ import annotations

from typing import Any

import pytest
from builders import container, context, deployment, pod
from workloads import cronjob, daemonset, job, statefulset

from policies.rules import ephemeral, probes, rollout, timing

ROLLING = "spec.updateStrategy.rollingUpdate"


def findings(check, *docs: dict[str, Any], **kwargs: Any) -> list[tuple[str | None, ...]]:
    return [(f.rule, f.resource, f.field, f.expected, f.actual) for f in check(context(*docs, **kwargs))]


def rollout_of(*docs: dict[str, Any], environment: str = "development") -> list[tuple[str | None, ...]]:
    # development: minReplicas 1, so only the strategy speaks unless a case is about replicas.
    return findings(rollout.check, *docs, environment=environment)


# -- StatefulSet -------------------------------------------------------------------------------------------------
def test_should_fail_a_statefulset_rolling_update_because_it_cannot_surge():
    got = rollout_of(statefulset({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}, replicas=1))
    assert got == [("rollout.max-unavailable", "StatefulSet/prompted-forge-mcp", f"{ROLLING}.maxUnavailable",
                    "0 (needs a surge pod, which a StatefulSet cannot create)", "2")]
    [finding] = rollout.check(context(statefulset(replicas=1), environment="development"))
    assert "a StatefulSet cannot surge" in finding.message


def test_should_fail_a_statefulset_with_the_default_strategy():
    assert rollout_of(statefulset(replicas=1)) == [
        ("rollout.max-unavailable", "StatefulSet/prompted-forge-mcp", f"{ROLLING}.maxUnavailable",
         "0 (needs a surge pod, which a StatefulSet cannot create)", "1")]


def test_should_fail_a_statefulset_that_never_rolls_out():
    assert rollout_of(statefulset({"type": "OnDelete"}, replicas=1)) == [
        ("rollout.strategy", "StatefulSet/prompted-forge-mcp", "spec.updateStrategy.type", "RollingUpdate",
         "OnDelete")]


def test_should_fail_a_statefulset_partition():
    got = rollout_of(statefulset({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}, replicas=1))
    assert [g[0] for g in got] == ["rollout.strategy", "rollout.max-unavailable"]
    assert got[0][2:] == (f"{ROLLING}.partition", "0", "1")


def test_should_apply_replica_minimums_to_a_statefulset():
    got = rollout_of(statefulset({"type": "OnDelete"}, replicas=1), environment="production")
    assert ("rollout.min-replicas", "StatefulSet/prompted-forge-mcp", "spec.replicas", ">= 2", "1") in got


# -- DaemonSet ---------------------------------------------------------------------------------------------------
def test_should_pass_a_zero_downtime_daemonset_surge_rollout_in_production():
    # No replica count: the production minimum of 2 replicas does not apply (it used to be a false alarm).
    doc = daemonset({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    assert rollout_of(doc, environment="production") == []


def test_should_pass_a_daemonset_surge_given_as_a_percentage():
    doc = daemonset({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "10%", "maxUnavailable": "0%"}})
    assert rollout_of(doc, environment="production") == []


def test_should_fail_a_daemonset_with_the_default_strategy():
    assert rollout_of(daemonset()) == [
        ("rollout.max-unavailable", "DaemonSet/prompted-forge-mcp", f"{ROLLING}.maxUnavailable", "0", "1"),
        ("rollout.max-surge", "DaemonSet/prompted-forge-mcp", f"{ROLLING}.maxSurge", ">= 1", "0"),
    ]


@pytest.mark.parametrize(("rolling", "expected"), [
    ({"maxSurge": 1, "maxUnavailable": 1}, [("rollout.max-unavailable", "1")]),
    ({"maxSurge": 1, "maxUnavailable": "1%"}, [("rollout.max-unavailable", "1%")]),
    ({"maxSurge": 0, "maxUnavailable": 0}, [("rollout.max-surge", "0")]),
    ({"maxSurge": "0%", "maxUnavailable": 0}, [("rollout.max-surge", "0%")]),
], ids=["unavailable-one", "unavailable-percent", "no-surge", "no-surge-percent"])
def test_should_fail_a_daemonset_rollout_that_takes_a_node_pod_away(rolling, expected):
    got = rollout_of(daemonset({"type": "RollingUpdate", "rollingUpdate": rolling}))
    assert [(g[0], g[4]) for g in got] == expected


def test_should_fail_a_daemonset_that_never_rolls_out():
    assert rollout_of(daemonset({"type": "OnDelete"})) == [
        ("rollout.strategy", "DaemonSet/prompted-forge-mcp", "spec.updateStrategy.type", "RollingUpdate",
         "OnDelete")]


# -- Jobs and CronJobs: resources and security, never rollout or probes -----------------------------------------
@pytest.mark.parametrize("build", [job, cronjob], ids=["Job", "CronJob"])
@pytest.mark.parametrize("check", [rollout.check, probes.check, timing.check], ids=["rollout", "probes", "timing"])
def test_should_not_judge_rollout_or_probes_of_batch_workloads(build, check):
    bare = container(livenessProbe=None, readinessProbe=None)
    assert findings(check, build(containers=[bare]), environment="production") == []


# -- ephemeral containers ----------------------------------------------------------------------------------------
DEBUG = [{"name": "debugger", "image": "busybox:1.36"}]


@pytest.mark.parametrize(("doc", "path"), [
    (deployment(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (statefulset(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (daemonset(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (job(spec={"ephemeralContainers": DEBUG}), "spec.template.spec"),
    (cronjob(spec={"ephemeralContainers": DEBUG}), "spec.jobTemplate.spec.template.spec"),
], ids=["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
def test_should_fail_ephemeral_containers_in_a_pod_template(doc, path):
    ref = f"{doc['kind']}/{doc['metadata']['name']}"
    assert findings(ephemeral.check, doc) == [
        ("pod.ephemeral-containers", ref, f"{path}.ephemeralContainers", "absent", "debugger")]
    [finding] = ephemeral.check(context(doc))
    assert finding.message.endswith("Forbidden: ephemeral containers not allowed in pod template")


def test_should_fail_ephemeral_containers_in_a_pod_manifest_with_the_create_reason():
    [finding] = ephemeral.check(context(pod(spec={"ephemeralContainers": DEBUG})))
    assert finding.field == "spec.ephemeralContainers"
    assert finding.message.endswith("Forbidden: cannot be set on create")


def test_should_pass_a_pod_template_without_ephemeral_containers():
    assert findings(ephemeral.check, deployment(spec={"ephemeralContainers": []}), job()) == []
