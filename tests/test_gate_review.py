"""Ways around the gate found by trying it as a new user would: `python -m policies check --env production
--manifests FILE --mode enforce` on the production render changed one way. Each case compares the exact
failures (rule, resource, field, file, line); each has a passing twin at the boundary."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rulekit import app_container, editable_docs, find_doc, safe_dump_all

from policies.cli import main

Docs = list[dict[str, Any]]
Failure = tuple[str, str, str, str, int]


def check_file(render_env, tmp_path: Path, capsys, mutate: Callable[[Docs], None]
               ) -> tuple[int, list[Failure], str]:
    docs = editable_docs(render_env("production"))
    mutate(docs)
    path = tmp_path / "production.yaml"
    path.write_text(safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    code = main(["check", "--env", "production", "--manifests", str(path), "--mode", "enforce", "--format", "json",
                 "--timing-runs", "0"])
    report = json.loads(capsys.readouterr().out)
    failures = [(f["rule"], f["resource"], f["field"], f["file"], f["line"])
                for f in report["findings"] if f["severity"] == "failure"]
    return code, failures, str(path)


def line_of(path: str, text: str, after: str = "") -> int:
    """1-based line of the first line containing `text` after the first line containing `after`."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


# -- ReplicaSets and ReplicationControllers make pods too ---------------------------------------------------------
# https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/ and .../replicationcontroller/: both keep
# `replicas` pods running from `spec.template`, a pod template like a Deployment's.
def add_replica_controller(kind: str, cpu: str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        extra = copy.deepcopy(find_doc(docs, "Deployment"))
        extra["kind"], extra["metadata"]["name"] = kind, "extra"
        for key in ("strategy", "revisionHistoryLimit", "progressDeadlineSeconds"):
            extra["spec"].pop(key, None)
        if kind == "ReplicationController":  # core/v1, equality-based selector only
            extra["apiVersion"], extra["spec"]["selector"] = "v1", extra["spec"]["selector"]["matchLabels"]
        container = extra["spec"]["template"]["spec"]["containers"][0]
        container["resources"] = {"requests": {"cpu": "250m", "memory": "256Mi"},
                                  "limits": {"cpu": cpu, "memory": "1Gi"}}
        docs.append(extra)
    return mutate


# The same with a helm.sh/hook annotation: only run-to-completion hooks (Pod, Job) are exempt from the budget.
CONTROLLER_VARIANTS = pytest.mark.parametrize("variant", ["plain", "hook-annotated"])


def replica_controller(variant: str, kind: str, cpu: str) -> Callable[[Docs], None]:
    return (hooked_replica_controller if variant == "hook-annotated" else add_replica_controller)(kind, cpu)


@CONTROLLER_VARIANTS
@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_should_fail_a_replica_controller_pod_over_budget(variant, kind, render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, replica_controller(variant, kind, "1001m"))
    field = "spec.template.spec.containers[0].resources.limits.cpu"
    limit = line_of(path, "cpu: 1001m", f"kind: {kind}")
    assert code == 1
    # Over the budget, and so over the namespace LimitRange's container and pod maximum too.
    assert failures == [
        ("guard.limitrange-admits", f"{kind}/extra", field, path, limit),
        ("guard.limitrange-admits", f"{kind}/extra", "spec.template.spec.containers[*].resources.limits.cpu", path,
         line_of(path, "containers:", f"kind: {kind}")),
        ("resources.within-budget", f"{kind}/extra", field, path, limit)]


@CONTROLLER_VARIANTS
@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_should_pass_the_budget_of_a_replica_controller_pod_at_the_limit(variant, kind, render_env, tmp_path, capsys):
    _, failures, _ = check_file(render_env, tmp_path, capsys, replica_controller(variant, kind, "1000m"))
    assert failures == []


def test_should_fail_a_privileged_replica_set(render_env, tmp_path, capsys):
    def mutate(docs: Docs) -> None:
        add_replica_controller("ReplicaSet", "1000m")(docs)
        docs[-1]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    assert code == 1
    assert failures == [
        ("pss.baseline.privileged-containers", "ReplicaSet/extra",
         "spec.template.spec.containers[0].securityContext.privileged", path,
         line_of(path, "privileged: true", "kind: ReplicaSet"))]


# -- spec.replicas beside an HPA -----------------------------------------------------------------------------------
# https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-
# to-horizontal-autoscaling: with an HPA, every apply of a Deployment that keeps spec.replicas scales it to that
# value (then the HPA scales back): replicas 1 takes production down to one pod on every release.
def with_replicas(count: int) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        find_doc(docs, "Deployment")["spec"]["replicas"] = count
    return mutate


def test_should_fail_replicas_below_the_minimum_beside_an_hpa(render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, with_replicas(1))
    assert code == 1
    assert failures == [("rollout.min-replicas", "Deployment/prompted-forge-mcp", "spec.replicas", path,
                         line_of(path, "replicas: 1", "kind: Deployment"))]


def test_should_pass_replicas_at_the_minimum_beside_an_hpa(render_env, tmp_path, capsys):
    code, failures, _ = check_file(render_env, tmp_path, capsys, with_replicas(2))
    assert (code, failures) == (0, [])


# -- a paused Deployment never rolls out ------------------------------------------------------------------------------
# https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pausing-and-resuming-a-deployment: while
# paused, changes to the pod template trigger no rollout (like a StatefulSet's OnDelete, which already fails).
@pytest.mark.parametrize(("paused", "failing"), [(True, True), (False, False)])
def test_should_fail_a_paused_deployment(paused, failing, render_env, tmp_path, capsys):
    def mutate(docs: Docs) -> None:
        find_doc(docs, "Deployment")["spec"]["paused"] = paused
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    expected = [("rollout.strategy", "Deployment/prompted-forge-mcp", "spec.paused", path,
                 line_of(path, "paused: true", "kind: Deployment"))] if failing else []
    assert (code, failures) == (int(failing), expected)


# -- probes that ask another host, or over TLS ----------------------------------------------------------------------
# https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#http-probes:
# `host` defaults to the pod IP and `scheme` to HTTP. A probe sent to another host says nothing about this pod; an
# HTTPS probe against the service's plain-HTTP port never succeeds.
@pytest.mark.parametrize(("probe", "key", "value", "shown"), [
    ("livenessProbe", "host", "10.0.0.1", "host: 10.0.0.1"),
    ("readinessProbe", "host", "example.com", "host: example.com"),
    ("livenessProbe", "scheme", "HTTPS", "scheme: HTTPS"),
])
def test_should_fail_a_probe_that_does_not_ask_the_pod_over_http(probe, key, value, shown, render_env, tmp_path,
                                                                  capsys):
    def mutate(docs: Docs) -> None:
        app_container(docs)[probe]["httpGet"][key] = value
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    assert code == 1
    assert failures == [("probes.path", "Deployment/prompted-forge-mcp",
                         f"spec.template.spec.containers[0].{probe}.httpGet.{key}", path,
                         line_of(path, shown, "kind: Deployment"))]


def test_should_pass_probes_that_spell_out_the_defaults(render_env, tmp_path, capsys):
    def mutate(docs: Docs) -> None:
        for probe in ("livenessProbe", "readinessProbe"):
            app_container(docs)[probe]["httpGet"].update(scheme="HTTP", host="")
    assert check_file(render_env, tmp_path, capsys, mutate)[:2] == (0, [])


# -- autoscaling/v1 HPA ---------------------------------------------------------------------------------------------
# https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v1/:
# targetCPUUtilizationPercentage; "if not specified the default autoscaling policy will be used" (80 %). v2 with no
# metrics defaults to 80 % CPU as well.
def hpa_v1(target: int | None) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        hpa = find_doc(docs, "HorizontalPodAutoscaler")
        hpa["apiVersion"] = "autoscaling/v1"
        del hpa["spec"]["metrics"]
        if target is not None:
            hpa["spec"]["targetCPUUtilizationPercentage"] = target
    return mutate


def test_should_pass_an_autoscaling_v1_hpa_at_the_alert_line(render_env, tmp_path, capsys):
    assert check_file(render_env, tmp_path, capsys, hpa_v1(70))[:2] == (0, [])


@pytest.mark.parametrize(("target", "shown"), [(71, "targetCPUUtilizationPercentage: 71"), (None, "spec:")])
def test_should_fail_an_autoscaling_v1_hpa_past_the_alert_line(target, shown, render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, hpa_v1(target))
    field = "spec.targetCPUUtilizationPercentage"
    assert code == 1
    assert failures == [("rollout.autoscaling-target", "HorizontalPodAutoscaler/prompted-forge-mcp", field, path,
                         line_of(path, shown, "kind: HorizontalPodAutoscaler"))]


# -- PodDisruptionBudget selectors as Kubernetes matches them ------------------------------------------------------
# https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-
# requirements: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) are ANDed; for policy/v1 an
# empty selector ({}) selects every pod in the namespace (https://kubernetes.io/docs/tasks/run-application/
# configure-pdb/#arbitrary-controllers-and-selectors).
def pdb_selector(selector: dict[str, Any], max_unavailable: int) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        find_doc(docs, "PodDisruptionBudget")["spec"] = {"selector": selector, "maxUnavailable": max_unavailable}
    return mutate


NAME = "app.kubernetes.io/name"
SELECTORS = {
    "match-expressions-in": {"matchExpressions": [{"key": NAME, "operator": "In", "values": ["prompted-forge-mcp"]}]},
    "match-expressions-exists": {"matchExpressions": [{"key": NAME, "operator": "Exists"}]},
    "match-expressions-not-in": {"matchExpressions": [{"key": NAME, "operator": "NotIn", "values": ["other"]}]},
    "empty-selects-all": {},
}


@pytest.mark.parametrize("selector", SELECTORS.values(), ids=SELECTORS.keys())
def test_should_find_a_pdb_that_selects_by_expressions(selector, render_env, tmp_path, capsys):
    assert check_file(render_env, tmp_path, capsys, pdb_selector(selector, 1))[:2] == (0, [])


@pytest.mark.parametrize("selector", SELECTORS.values(), ids=SELECTORS.keys())
def test_should_fail_a_pdb_that_selects_by_expressions_and_blocks_drains(selector, render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, pdb_selector(selector, 0))
    assert code == 1
    assert failures == [("rollout.pdb-allows-drain", "PodDisruptionBudget/prompted-forge-mcp", "spec.maxUnavailable",
                         path, line_of(path, "maxUnavailable: 0", "kind: PodDisruptionBudget"))]


def test_should_not_count_a_pdb_whose_expressions_exclude_the_pods(render_env, tmp_path, capsys):
    selector = {"matchLabels": {NAME: "prompted-forge-mcp"},
                "matchExpressions": [{"key": NAME, "operator": "DoesNotExist"}]}
    code, failures, path = check_file(render_env, tmp_path, capsys, pdb_selector(selector, 1))
    assert code == 1
    assert [f[:3] for f in failures] == [
        ("rollout.pdb-present", "Deployment/prompted-forge-mcp", "PodDisruptionBudget")]


# -- keys YAML parsers read differently -------------------------------------------------------------------------------
# A key written twice, or set and then merged again by a later `<<`, is read one way by PyYAML (the direct key, or
# the last duplicate) and another by go-yaml v2 under helm and kubectl (whichever comes last; strict decoding refuses
# duplicates): the check would judge a value the cluster never sees. Such input is refused (exit 2) at its line.
def rewrite_limits(replacement: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        original = "          limits:\n            cpu: 1000m\n"
        assert original in text
        return text.replace(original, replacement, 1)
    return edit


def check_text(render_env, tmp_path: Path, capsys, edit: Callable[[str], str]) -> tuple[int, str, str]:
    docs = editable_docs(render_env("production"))
    path = tmp_path / "production.yaml"
    path.write_text(edit(safe_dump_all(docs, sort_keys=False)), encoding="utf-8")
    code = main(["check", "--env", "production", "--manifests", str(path), "--mode", "enforce", "--format", "json",
                 "--timing-runs", "0"])
    return code, capsys.readouterr().err, str(path)


@pytest.mark.parametrize(("replacement", "marker"), [
    ("          limits:\n            cpu: 4000m\n            cpu: 1000m\n", "cpu: 1000m"),
    ("          limits:\n            cpu: 1000m\n            <<: {cpu: 4000m}\n", "<<: {cpu: 4000m}"),
], ids=["duplicate-key", "merge-after-the-key"])
def test_should_refuse_keys_that_yaml_parsers_read_differently(replacement, marker, render_env, tmp_path, capsys):
    code, err, path = check_text(render_env, tmp_path, capsys, rewrite_limits(replacement))
    assert code == 2
    assert f"{path}:{line_of(path, marker, 'kind: Deployment')}:" in err, err


def test_should_accept_a_merge_written_before_the_keys_it_overrides(render_env, tmp_path, capsys):
    edit = rewrite_limits("          limits:\n            <<: {cpu: 4000m}\n            cpu: 1000m\n")
    code, err, _ = check_text(render_env, tmp_path, capsys, edit)
    assert code == 0, err


# -- a preStop sleep written through a shell ------------------------------------------------------------------------
# `exec: {command: [sh, -c, "sleep 5"]}` waits as long as `sleep: {seconds: 5}`; it was read as no wait at all.
@pytest.mark.parametrize(("command", "failing"), [
    (["sh", "-c", "sleep 5"], False), (["/bin/sh", "-c", "sleep 5"], False), (["sh", "-c", "sleep 4"], True)])
def test_should_read_a_prestop_sleep_run_through_a_shell(command, failing, render_env, tmp_path, capsys):
    def mutate(docs: Docs) -> None:
        app_container(docs)["lifecycle"]["preStop"] = {"exec": {"command": command}}
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    expected = [("timing.traffic-switch", "Deployment/prompted-forge-mcp",
                 "spec.template.spec.containers[0].lifecycle.preStop", path,
                 line_of(path, "preStop:", "kind: Deployment"))] if failing else []
    assert (code, failures) == (int(failing), expected)


# -- A field of the wrong type is bad input, never a traceback ---------------------------------------------------
# The API server refuses such a document; the strict schema finds the field, and the check stops with exit 2 at
# that line instead of a rule crashing on it (a traceback and exit 1).
def set_probe_period(value: Any) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        app_container(docs)["readinessProbe"]["periodSeconds"] = value
    return mutate


def set_hpa_utilization(value: Any) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        target = find_doc(docs, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["resource"]["target"]
        target["averageUtilization"] = value
    return mutate


def set_resources(value: Any) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        app_container(docs)["resources"] = value
    return mutate


@pytest.mark.parametrize(("mutate", "field_text", "after"), [
    (set_probe_period("abc"), "periodSeconds: abc", "readinessProbe:"),
    (set_hpa_utilization("95"), "averageUtilization: '95'", "kind: HorizontalPodAutoscaler"),
    (set_resources([{"cpu": "1"}]), "resources:", "kind: Deployment"),
], ids=["probe-period-string", "hpa-utilization-string", "resources-list"])
def test_should_stop_with_exit_2_at_the_field_when_a_type_is_wrong(
    render_env, tmp_path: Path, capsys, mutate, field_text: str, after: str
) -> None:
    docs = editable_docs(render_env("production"))
    mutate(docs)
    path = tmp_path / "production.yaml"
    path.write_text(safe_dump_all(docs, sort_keys=False), encoding="utf-8")

    code = main(["check", "--env", "production", "--manifests", str(path), "--mode", "enforce", "--timing-runs", "0"])

    error = capsys.readouterr().err
    assert code == 2, error
    assert "Traceback" not in error
    assert f"{path}:{line_of(str(path), field_text, after)}:" in error
    assert "the budget rules cannot judge a document the Kubernetes schema rejects" in error


def test_should_judge_the_same_fields_when_their_types_are_right(render_env, tmp_path: Path, capsys) -> None:
    def mutate(docs: Docs) -> None:  # the production values, written again as the integers they must be
        probe = app_container(docs)["readinessProbe"]
        target = find_doc(docs, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["resource"]["target"]
        set_probe_period(int(probe["periodSeconds"]))(docs)
        set_hpa_utilization(int(target["averageUtilization"]))(docs)

    code, failures, _ = check_file(render_env, tmp_path, capsys, mutate)
    assert (code, failures) == (0, [])


# -- a helm hook annotation on a long-running workload ---------------------------------------------------------------
# https://helm.sh/docs/topics/charts_hooks/: hooks are for objects that run to completion (a Job, or the Pod of
# `helm test`); Helm waits for a hook Job or Pod to finish, but a Deployment with the annotation simply keeps
# running, and it serves like any other. Only a hook Pod or Job is exempt from the service rules.
HOOK = {"helm.sh/hook": "post-install,post-upgrade"}


def hooked_deployment(cpu: str, replicas: int | None = None) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        deployment = find_doc(docs, "Deployment")
        deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = cpu
        if replicas is not None:
            deployment["spec"]["replicas"] = replicas
        deployment["metadata"].setdefault("annotations", {}).update(HOOK)
    return mutate


def hooked_replica_controller(kind: str, cpu: str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        add_replica_controller(kind, cpu)(docs)
        docs[-1]["metadata"].setdefault("annotations", {}).update(HOOK)
    return mutate


def test_should_fail_a_hook_annotated_deployment_over_budget(render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, hooked_deployment("1001m"))
    deployment, limit = "Deployment/prompted-forge-mcp", "spec.template.spec.containers[0].resources.limits.cpu"
    limit_line = line_of(path, "cpu: 1001m", "kind: Deployment")
    assert code == 1
    # As for the same Deployment without the annotation: the LimitRange, the quota and the budget all refuse it.
    assert failures == [
        ("guard.limitrange-admits", deployment, limit, path, limit_line),
        ("guard.limitrange-admits", deployment, "spec.template.spec.containers[*].resources.limits.cpu", path,
         line_of(path, "containers:", "kind: Deployment")),
        ("guard.quota-admits", "ResourceQuota/prompted-forge-mcp-budget", 'spec.hard["limits.cpu"]', path,
         line_of(path, "limits.cpu:", "kind: ResourceQuota")),
        ("resources.within-budget", deployment, limit, path, limit_line)]


def test_should_pass_a_hook_annotated_deployment_at_the_budget(render_env, tmp_path, capsys):
    assert check_file(render_env, tmp_path, capsys, hooked_deployment("1000m"))[:2] == (0, [])


def test_should_fail_a_hook_annotated_deployment_below_the_minimum_replicas(render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, hooked_deployment("1000m", replicas=1))
    assert code == 1
    assert failures == [("rollout.min-replicas", "Deployment/prompted-forge-mcp", "spec.replicas", path,
                         line_of(path, "replicas: 1", "kind: Deployment"))]


def test_should_keep_the_helm_test_pod_exempt_from_the_service_budget(render_env, tmp_path, capsys):
    def mutate(docs: Docs) -> None:
        test_pod = next(d for d in docs if d["kind"] == "Pod")
        assert "helm.sh/hook" in test_pod["metadata"]["annotations"]
        test_pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1001m"
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    quota, test_pod = "ResourceQuota/prompted-forge-mcp-budget", "Pod/prompted-forge-mcp-budget-test"
    quota_cpu = line_of(path, "limits.cpu:", "kind: ResourceQuota")
    # No resources, rollout, probe or timing finding; the namespace guards, which admit every pod, still speak.
    assert failures == [
        ("guard.equals-budget", quota, 'spec.hard["limits.cpu"]', path, quota_cpu),
        ("guard.limitrange-admits", test_pod, "spec.containers[0].resources.limits.cpu", path,
         line_of(path, "cpu: 1001m", "kind: Pod")),
        ("guard.limitrange-admits", test_pod, "spec.containers[*].resources.limits.cpu", path,
         line_of(path, "containers:", "helm.sh/hook-weight: '0'")),  # the test Pod's own hook weight
        ("guard.quota-admits", quota, 'spec.hard["limits.cpu"]', path, quota_cpu)]


# -- every app container carries its probes ------------------------------------------------------------------------
# https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-probes: probes are per container, and
# a container without a liveness or readiness probe counts as live and ready ("the default state is Success"); the
# pod is Ready only when every container is. A second app container without probes can hang and keep the pod in
# the Service unseen. The budget's health paths belong to the service container; another app container probes its
# own endpoint on a port it declares.
def second_app_container(**probes: Any) -> Callable[[Docs], None]:
    """A second app container, the pod's resources split between the two so the budget holds exactly."""
    def mutate(docs: Docs) -> None:
        pod = find_doc(docs, "Deployment")["spec"]["template"]["spec"]
        second = {key: copy.deepcopy(value) for key, value in pod["containers"][0].items()
                  if not key.endswith("Probe")}
        second.update(name="second", ports=[{"name": "admin", "containerPort": 9090, "protocol": "TCP"}])
        second.update(probes)
        pod["containers"][0]["resources"] = {"requests": {"cpu": "200m", "memory": "192Mi"},
                                             "limits": {"cpu": "900m", "memory": "896Mi"}}
        second["resources"] = {"requests": {"cpu": "50m", "memory": "64Mi"},
                               "limits": {"cpu": "100m", "memory": "128Mi"}}
        pod["containers"].append(second)
    return mutate


def admin_probe(path: str, period: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "admin"}, "periodSeconds": period, "failureThreshold": 3}


def test_should_fail_a_second_app_container_without_probes(render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, second_app_container())
    where = "spec.template.spec.containers[1]"
    line = line_of(path, "name: second", "kind: Deployment")
    assert code == 1
    # Both probes are missing at the container's line: one cause, reported once (policies/judging/grouping.py).
    assert failures == [
        ("probes.present", "Deployment/prompted-forge-mcp", f"{where}.livenessProbe", path, line)]


def test_should_fail_a_second_app_container_without_a_readiness_probe(render_env, tmp_path, capsys):
    mutate = second_app_container(livenessProbe=admin_probe("/live", 10))
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    assert code == 1
    assert failures == [
        ("probes.present", "Deployment/prompted-forge-mcp", "spec.template.spec.containers[1].readinessProbe", path,
         line_of(path, "name: second", "kind: Deployment"))]


def test_should_fail_a_second_app_container_probing_past_the_interval(render_env, tmp_path, capsys):
    mutate = second_app_container(livenessProbe=admin_probe("/live", 10), readinessProbe=admin_probe("/ready", 11))
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    assert code == 1
    # The timing rules read this container too: 11 s * 3 failures keeps a failing pod in the Service for 33 s.
    assert failures == [
        ("probes.period", "Deployment/prompted-forge-mcp",
         "spec.template.spec.containers[1].readinessProbe.periodSeconds", path,
         line_of(path, "periodSeconds: 11", "name: second")),
        ("timing.stabilization", "Deployment/prompted-forge-mcp", "spec.template.spec.containers[1].readinessProbe",
         path, line_of(path, "readinessProbe:", "name: second"))]


def test_should_pass_a_second_app_container_with_its_own_probes(render_env, tmp_path, capsys):
    mutate = second_app_container(livenessProbe=admin_probe("/live", 10), readinessProbe=admin_probe("/ready", 5))
    _, failures, _ = check_file(render_env, tmp_path, capsys, mutate)
    assert failures == []


# -- a PodDisruptionBudget number written as a string -----------------------------------------------------------------
# The API server validates a PodDisruptionBudget's maxUnavailable/minAvailable string with IsValidPercent
# (^[0-9]+%$, kubernetes pkg/apis/policy/validation): "1" is rejected, not read as one pod, so the budget the chart
# meant never exists. A whole percentage, or the integer, passes.
def pdb_max_unavailable(value: int | str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        find_doc(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] = value
    return mutate


@pytest.mark.parametrize("value", ["1", "1.5%"])
def test_should_fail_a_pdb_number_the_api_server_rejects(value, render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, pdb_max_unavailable(value))
    assert code == 1
    assert failures == [("rollout.pdb-allows-drain", "PodDisruptionBudget/prompted-forge-mcp", "spec.maxUnavailable",
                         path, line_of(path, "maxUnavailable:", "kind: PodDisruptionBudget"))]


@pytest.mark.parametrize("value", [1, "1%"])
def test_should_pass_a_pdb_number_as_an_integer_or_a_whole_percentage(value, render_env, tmp_path, capsys):
    assert check_file(render_env, tmp_path, capsys, pdb_max_unavailable(value))[:2] == (0, [])
