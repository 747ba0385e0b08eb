"""The namespace guards in a real cluster: the API server refuses what the budget does not allow.

LimitRange and ResourceQuota act on pods, not on Deployments: an over-budget Pod
is refused when it is created, and an over-budget `kubectl set resources` on
the Deployment is accepted, after which its new ReplicaSet reports FailedCreate.
Runs only where the budget asks for guards (staging, production).
"""

from __future__ import annotations

import json
import time

import pytest

from e2e.guards import failed_create, newest_replica_set, over_budget_memory, over_budget_pod
from e2e.kube import CHART_NAME, ClusterError, Release
from policies.inputs.budget import Budget

pytestmark = pytest.mark.e2e

FAILED_CREATE_SECONDS = 90.0


@pytest.fixture
def guarded(release: Release, budget: Budget) -> Release:
    if not budget.environment(release.environment).get("admissionGuards"):
        pytest.skip(f"the {release.environment} budget has no admission guards")
    return release


def test_should_refuse_an_over_budget_pod(guarded: Release, budget: Budget, tmp_path) -> None:
    pod = over_budget_pod("pf-e2e-over-budget", budget, guarded.environment, "docker.io/library/node:20-alpine")
    manifest = tmp_path / "pod.json"
    manifest.write_text(json.dumps(pod), encoding="utf-8")
    with pytest.raises(ClusterError, match="(?i)forbidden"):
        guarded.cluster.kubectl("create", "--namespace", guarded.namespace, "--filename", str(manifest))


def test_should_report_failed_create_after_an_over_budget_set_resources(guarded: Release, budget: Budget) -> None:
    cluster, namespace = guarded.cluster, guarded.namespace
    memory = over_budget_memory(budget, guarded.environment)
    # Accepted: the Deployment itself is not a pod, so neither guard judges it.
    cluster.kubectl("set", "resources", f"deployment/{guarded.fullname}", "--namespace", namespace,
                    f"--containers={CHART_NAME}",
                    f"--limits=memory={memory}")
    deadline = time.monotonic() + FAILED_CREATE_SECONDS
    message = None
    while time.monotonic() < deadline and message is None:
        items = cluster.kubectl_json("get", "replicasets", "--namespace", namespace, "-l", guarded.selector)
        message = failed_create(newest_replica_set(items.get("items") or []))
        if message is None:
            time.sleep(2)
    print(f"{guarded.environment}: new ReplicaSet FailedCreate: {message}")
    assert message is not None, f"no FailedCreate within {FAILED_CREATE_SECONDS:g} s"
    assert "forbidden" in message.lower()
    cluster.kubectl("rollout", "undo", f"deployment/{guarded.fullname}", "--namespace", namespace)
