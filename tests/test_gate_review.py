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
import yaml
from rulekit import editable_docs, find_doc

from policies.cli import main

Docs = list[dict[str, Any]]
Failure = tuple[str, str, str, str, int]


def check_file(render_env, tmp_path: Path, capsys, mutate: Callable[[Docs], None]
               ) -> tuple[int, list[Failure], str]:
    docs = editable_docs(render_env("production"))
    mutate(docs)
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
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


@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_should_fail_a_replica_controller_pod_over_budget(kind, render_env, tmp_path, capsys):
    code, failures, path = check_file(render_env, tmp_path, capsys, add_replica_controller(kind, "1001m"))
    field = "spec.template.spec.containers[0].resources.limits.cpu"
    assert code == 1
    assert [f for f in failures if f[0].startswith("resources.")] == [
        ("resources.within-budget", f"{kind}/extra", field, path, line_of(path, "cpu: 1001m", f"kind: {kind}"))]


@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_should_pass_the_budget_of_a_replica_controller_pod_at_the_limit(kind, render_env, tmp_path, capsys):
    _, failures, _ = check_file(render_env, tmp_path, capsys, add_replica_controller(kind, "1000m"))
    assert [f for f in failures if f[0].startswith("resources.")] == []


def test_should_fail_a_privileged_replica_set(render_env, tmp_path, capsys):
    def mutate(docs: Docs) -> None:
        add_replica_controller("ReplicaSet", "1000m")(docs)
        docs[-1]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    code, failures, path = check_file(render_env, tmp_path, capsys, mutate)
    assert code == 1
    assert failures == [("pss.baseline.privileged-containers", "ReplicaSet/extra",
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
