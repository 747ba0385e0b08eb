"""Every Pod Security Standards control, driven by the published table (tests/pss_published.py).

For each control, each allowed value passes and each forbidden value fails with
the rule named for the control, at each level the value can be set: pod, app
container, init container and native sidecar; in a Deployment, a CronJob and a
bare Pod.

Each case is written to a file as `check --manifests` reads it and compared as the full list of
(rule, resource, field, file, line) its findings make, the line read back from the written file
(tests/rulekit.py: RuleCase).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from builders import container, context, pod_security_context
from pss_published import CONTROLS, UNSET, Control, baseline_forbids, restricted_forbids, rule_id
from rulekit import Expected, FindingTuple, RuleCase

from policies.checks.kubeschema import chart_kube_versions
from policies.checks.rules import pod_security

KINDS = ("Deployment", "CronJob", "Pod")
SPEC_PATH = {"Deployment": "spec.template.spec", "CronJob": "spec.jobTemplate.spec.template.spec", "Pod": "spec"}
# Where a table field written for spec.containers[*] / spec.initContainers[*] lands: (list, index, name).
TARGETS = {"spec.containers[*]": [("containers", 0, "app")],
           "spec.initContainers[*]": [("initContainers", 0, "init"), ("initContainers", 1, "sidecar")]}
Key = str | int


def _container(name: str, **overrides: Any) -> dict[str, Any]:
    return container(name, ports=[{"name": name[:6], "containerPort": 9000}], livenessProbe=None,
                     readinessProbe=None, **overrides)


def pod_spec() -> dict[str, Any]:
    """A pod every control admits: hardened app, init and sidecar containers."""
    return {"securityContext": pod_security_context(), "automountServiceAccountToken": False,
            "containers": [_container("app")],
            "initContainers": [_container("init"), _container("sidecar", restartPolicy="Always")]}


def workload(kind: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "pf"}
    if annotations:
        metadata["annotations"] = annotations
    template = {"metadata": metadata, "spec": spec}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", **template}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "pf"},
                "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template}}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pf"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": template}}


def _keys(path: str) -> list[Key]:
    return [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", path)]


def _set(node: Any, keys: list[Key], value: Any) -> None:
    """Set a value at keys, creating dicts (and one-item lists for [0]); UNSET removes it and empty parents."""
    head, rest = keys[0], keys[1:]
    if not rest:
        if value is UNSET:
            node.pop(head, None)
        else:
            node[head] = copy.deepcopy(value)
        return
    if isinstance(head, str) and head not in node:
        if value is UNSET:
            return
        node[head] = [{}] if rest[0] == 0 else {}
    child = node[head]
    if isinstance(child, list) and not child:
        child.append({})
    _set(child, rest, value)
    if value is UNSET and isinstance(head, str) and not node[head]:
        node.pop(head)


class TableCase(NamedTuple):
    """One value of the published table, set at one place in one kind of workload."""

    kind: str
    control: Control
    field: str
    where: str
    index: int
    name: str
    value: Any
    allowed: bool


def cases() -> Iterator[Any]:
    """Every TableCase, each one pytest parameter: pytest sets up and tears down a fixture for each parameter name
    of each case, so one name rather than eight spares seven of those a case."""
    for control in CONTROLS:
        for field in control.fields:
            for where, index, name in _targets(field):
                for allowed, values in ((True, control.allowed), (False, control.forbidden)):
                    for value in values:
                        row = f"{rule_id(control)}:{name}:{field.rsplit('.', 1)[-1]}={value!r}:" \
                              f"{'allowed' if allowed else 'forbidden'}"
                        for kind in KINDS:
                            yield pytest.param(TableCase(kind, control, field, where, index, name, value, allowed),
                                               id=f"{row}-{kind}")


def _targets(field: str) -> list[tuple[str, int, str]]:
    for prefix, targets in TARGETS.items():
        if field.startswith(prefix + "."):
            return targets
    return [("pod", 0, "pod")]


def apply(kind: str, field: str, where: str, index: int, value: Any) -> tuple[dict[str, Any], str, str | None]:
    """A workload with the table field set to value, the concrete path a finding names, and its container."""
    spec = pod_spec()
    annotations: dict[str, str] = {}
    base = SPEC_PATH[kind]
    meta = base.removesuffix(".spec") + ".metadata" if kind != "Pod" else "metadata"
    if field.startswith("metadata.annotations"):
        key = "container.apparmor.security.beta.kubernetes.io/app"
        if value is not UNSET:
            annotations[key] = value
        return workload(kind, spec, annotations), f'{meta}.annotations["{key}"]', None
    if field == "spec.volumes[*]":
        spec["volumes"] = [{"name": "data", value: {}}]
        return workload(kind, spec), f"{base}.volumes[0].{value}", None
    if where == "pod":
        relative = field.removeprefix("spec.")
        _set(spec, _keys(relative.replace("[*]", "[0]")), value)
        if relative.startswith("sysctls") and value is not UNSET:
            spec["securityContext"]["sysctls"][0]["value"] = "1"
        return workload(kind, spec), f"{base}.{relative.replace('[*]', '[0]')}", None
    suffix = field.split("].", 1)[1]
    _set(spec[where][index], _keys(suffix.replace("[*]", "[0]")), value)
    return (workload(kind, spec), f"{base}.{where}[{index}].{suffix.replace('[*]', '[0]')}",
            spec[where][index]["name"])


Judged = tuple[list[FindingTuple], list[str | None], RuleCase]


@pytest.fixture(scope="module")
def case_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the module's thousand cases: each case rewrites its file there (tests in one process
    run one at a time), instead of a fresh directory per case whose making and removing cost more than the case."""
    return tmp_path_factory.mktemp("pss-case")


@pytest.fixture(scope="module")
def judge(case_directory: Path) -> Callable[[dict[str, Any]], Judged]:
    """The document written to a file and judged: (found tuples, each finding's container, the case). One for the
    module: it keeps nothing between cases."""
    def run(doc: dict[str, Any]) -> Judged:
        case = RuleCase(case_directory, [doc])
        findings = case.findings(pod_security.check)
        return [(f.rule, f.resource, f.field, f.file, f.line) for f in findings], \
            [f.container for f in findings], case
    return run


@pytest.fixture
def expect(judge: Callable[[dict[str, Any]], Judged]) -> Callable[..., None]:
    """The document's findings are exactly `expected`, each at the line of its field in the written file."""
    def check(doc: dict[str, Any], *expected: Expected) -> None:
        found, _, case = judge(doc)
        assert found == case.at(*expected)
    return check


@pytest.mark.parametrize("table_case", list(cases()))
def test_should_judge_each_value_of_the_published_table(judge, table_case: TableCase) -> None:
    kind, control, field, where, index, _, value, allowed = table_case
    doc, path, container_name = apply(kind, field, where, index, value)
    found, containers, case = judge(doc)
    rule = rule_id(control)
    if allowed:
        # Allowed by this control; a baseline value outside restricted's closed list fails that control alone.
        assert found == case.at(*[(rule_id(other), f"{kind}/pf", path)
                                  for other in restricted_forbids(control, field, value)])
        assert rule not in {f[0] for f in found}
    else:
        reported_as = rule_id(baseline_forbids(control, value) or control)
        assert found == case.at((reported_as, f"{kind}/pf", path))
        assert containers == [container_name]


def test_should_have_one_rule_per_published_control() -> None:
    assert set(pod_security.RULES) == {rule_id(control) for control in CONTROLS}


def test_should_judge_at_the_lowest_minor_of_the_chart_kube_version_range() -> None:
    assert chart_kube_versions()[0] == pod_security.JUDGED_AT


def test_should_say_in_each_finding_at_which_version_it_was_judged() -> None:
    doc, _, _ = apply("Pod", "spec.securityContext.sysctls[*].name", "pod", 0, "net.ipv4.tcp_rmem")
    [finding] = pod_security.check(context(doc))
    assert f"judged at Kubernetes {pod_security.JUDGED_AT}" in finding.message


# The page: "The container fields may be undefined/nil if the pod-level field is set" -- and only then.
@pytest.mark.parametrize(("key", "rule"), [("runAsNonRoot", "pss.restricted.running-as-non-root"),
                                           ("seccompProfile", "pss.restricted.seccomp")])
@pytest.mark.parametrize(("where", "index"), [("containers", 0), ("initContainers", 0), ("initContainers", 1)])
def test_should_require_the_setting_on_a_container_when_the_pod_leaves_it_unset(judge, key: str, rule: str,
                                                                                 where: str, index: int) -> None:
    spec = pod_spec()
    del spec["securityContext"][key]
    del spec[where][index]["securityContext"][key]
    field = f"spec.template.spec.{where}[{index}].securityContext.{key}"
    field += ".type" if key == "seccompProfile" else ""
    found, containers, case = judge(workload("Deployment", spec))
    assert found == case.at((rule, "Deployment/pf", field))
    assert containers == [spec[where][index]["name"]]


@pytest.mark.parametrize("key", ["runAsNonRoot", "seccompProfile", "runAsUser"])
def test_should_accept_the_setting_only_at_pod_level(expect, key: str) -> None:
    spec = pod_spec()
    for item in (*spec["containers"], *spec["initContainers"]):
        del item["securityContext"][key]
    expect(workload("Deployment", spec))


def test_should_fail_an_explicit_pod_level_false_even_when_every_container_says_true(expect) -> None:
    spec = pod_spec()
    spec["securityContext"]["runAsNonRoot"] = False
    expect(workload("Pod", spec), ("pss.restricted.running-as-non-root", "Pod/pf", "spec.securityContext.runAsNonRoot"))


def test_should_not_relax_proc_mount_for_pods_without_host_users_at_1_31(expect) -> None:
    spec = pod_spec()
    spec["hostUsers"] = False
    spec["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    expect(workload("Pod", spec),
           ("pss.baseline.proc-mount-type", "Pod/pf", "spec.containers[0].securityContext.procMount"))


def test_should_exempt_windows_pods_from_the_linux_only_restricted_controls(expect) -> None:
    spec = pod_spec()
    spec["os"] = {"name": "windows"}
    for item in (*spec["containers"], *spec["initContainers"]):
        for key in ("allowPrivilegeEscalation", "seccompProfile", "capabilities"):
            del item["securityContext"][key]
    del spec["securityContext"]["seccompProfile"]
    expect(workload("Pod", spec))


def test_should_accept_an_selinux_level_with_a_container_type(expect) -> None:
    spec = pod_spec()
    spec["securityContext"]["seLinuxOptions"] = {"type": "container_t", "level": "s0:c123,c456"}
    expect(workload("Pod", spec))


def test_should_point_pod_and_container_findings_at_their_values_keys() -> None:
    spec = pod_spec()
    spec["securityContext"]["sysctls"] = [{"name": "kernel.msgmax", "value": "65536"}]
    spec["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    keys = [(f.rule, f.values_key) for f in pod_security.check(context(workload("Deployment", spec)))]
    assert keys == [("pss.baseline.sysctls", ("podSecurityContext", "sysctls")),
                    ("pss.baseline.proc-mount-type", ("securityContext", "procMount"))]


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("runAsNonRoot", False, "pss.restricted.running-as-non-root"),
    ("runAsUser", 0, "pss.restricted.running-as-non-root-user"),
])
def test_should_not_relax_the_identity_controls_for_pods_without_host_users_at_1_31(expect, key: str,
                                                                                    value: object, rule: str) -> None:
    spec = pod_spec()
    spec["hostUsers"] = False
    spec["containers"][0]["securityContext"][key] = value
    expect(workload("Pod", spec), (rule, "Pod/pf", f"spec.containers[0].securityContext.{key}"))


@pytest.mark.parametrize(("field", "value"), [("hostNetwork", 1), ("hostPID", "true")])
def test_should_not_take_a_truthy_non_boolean_for_false(expect, field: str, value: object) -> None:
    spec = pod_spec()
    spec[field] = value
    expect(workload("Pod", spec), ("pss.baseline.host-namespaces", "Pod/pf", f"spec.{field}"))


def test_should_take_a_volume_without_a_source_as_the_empty_dir_kubernetes_defaults_it_to(expect) -> None:
    spec = pod_spec()
    spec["volumes"] = [{"name": "scratch"}]
    expect(workload("Pod", spec))


def test_should_not_take_1_for_true_where_the_value_must_be_true(expect) -> None:
    spec = pod_spec()
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = 1
    expect(workload("Pod", spec),
           ("pss.restricted.running-as-non-root", "Pod/pf", "spec.containers[0].securityContext.runAsNonRoot"))


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"])
def test_should_check_every_kind_that_carries_a_pod_template(expect, kind: str) -> None:
    spec = pod_spec()
    spec["hostPID"] = True
    doc = workload("Deployment", spec)
    doc["kind"] = kind
    expect(doc, ("pss.baseline.host-namespaces", f"{kind}/pf", "spec.template.spec.hostPID"))
