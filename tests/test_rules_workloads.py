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

from policies.checks.rules import ephemeral, pod_template, probes, rollout, run_all, timing

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


# -- a pod to run: template and containers -----------------------------------------------------------------------
def _replicaset() -> dict[str, Any]:
    doc = deployment(kind="ReplicaSet")
    del doc["spec"]["strategy"]
    return doc


def _replication_controller() -> dict[str, Any]:
    doc = _replicaset()
    doc.update(apiVersion="v1", kind="ReplicationController")
    doc["spec"]["selector"] = dict(doc["spec"]["selector"]["matchLabels"])  # a plain label map, not matchLabels
    return doc


# Each kind the harness judges as a workload, and where its pod template stands (a Pod: its own spec).
POD_HOLDERS = {
    "Deployment": (deployment, "spec.template"),
    "StatefulSet": (statefulset, "spec.template"),
    "DaemonSet": (daemonset, "spec.template"),
    "ReplicaSet": (_replicaset, "spec.template"),
    "ReplicationController": (_replication_controller, "spec.template"),
    "Job": (job, "spec.template"),
    "CronJob": (cronjob, "spec.jobTemplate.spec.template"),
    "Pod": (pod, "spec"),  # a helm test hook pod: hooks are not exempt
}
ABSENT = object()


def _edit(doc: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    *parents, last = field.split(".")
    node = doc
    for key in parents:
        node = node[key]
    if value is ABSENT:
        del node[last]
    else:
        node[last] = value
    return doc


def _pod_spec_path(kind: str) -> str:
    template = POD_HOLDERS[kind][1]
    return template if kind == "Pod" else f"{template}.spec"


def _no_pod_cases() -> list[Any]:
    cases = []
    for kind, (build, template) in POD_HOLDERS.items():
        containers = f"{_pod_spec_path(kind)}.containers"
        edits = [("template-null", template, None, "null"), ("template-missing", template, ABSENT, "absent")]
        if kind != "Pod":
            edits += [("pod-spec-null", f"{template}.spec", None, "null"),
                      ("pod-spec-missing", f"{template}.spec", ABSENT, "absent")]
        edits += [("containers-empty", containers, [], "[]"), ("containers-null", containers, None, "null"),
                  ("containers-missing", containers, ABSENT, "absent")]
        cases += [pytest.param(build, field, value, actual, id=f"{kind}-{name}")
                  for name, field, value, actual in edits]
    return cases


@pytest.mark.parametrize(("build", "field", "value", "actual"), _no_pod_cases())
def test_should_fail_a_workload_without_a_pod_template_or_containers(expect, build, field, value, actual):
    doc = _edit(build(), field, value)
    ref = f"{doc['kind']}/{doc['metadata']['name']}"
    wanted = "at least one container" if field.endswith(".containers") else (
        "a pod spec with at least one container" if doc["kind"] == "Pod" else
        "a pod template with at least one container")
    # A missing field is placed at its nearest written parent (RuleCase.at reads it back from the file).
    expect(pod_template.check, doc, environment="production",
           expected=[("pod.containers-present", ref, field, wanted, actual)])


@pytest.mark.parametrize("kind", POD_HOLDERS)
def test_should_pass_a_workload_whose_pod_has_one_container(expect, kind):
    doc = POD_HOLDERS[kind][0]()
    pod_spec = doc
    for key in _pod_spec_path(kind).split("."):
        pod_spec = pod_spec[key]
    assert len(pod_spec["containers"]) == 1
    expect(pod_template.check, doc, environment="production", expected=[])


CRON_LEVELS = ["spec", "spec.jobTemplate", "spec.jobTemplate.spec", "spec.jobTemplate.spec.template",
               "spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.template.spec.containers"]


@pytest.mark.parametrize("field", CRON_LEVELS, ids=[level.rsplit(".", 1)[-1] + f"-{i}"
                                                      for i, level in enumerate(CRON_LEVELS)])
def test_should_fail_a_cronjob_null_at_any_level_without_crashing_any_rule(tmp_path, field):
    doc = _edit(cronjob(), field, None)
    wanted = "at least one container" if field.endswith(".containers") else \
        "a pod template with at least one container"
    case = RuleCase(tmp_path, [doc])
    # Every family runs over the object (none may crash on the null); this rule is the one that fails it.
    found = [where for where in case.found(run_all, also=("expected", "actual"))
             if where[0] == "pod.containers-present"]
    assert found == case.at(("pod.containers-present", "CronJob/prompted-forge-mcp-cron", field, wanted, "null"))
