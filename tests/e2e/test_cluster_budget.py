"""The runtime budget in a real cluster, per environment: boot time, `helm test`, a zero-downtime upgrade.

Each environment is installed into its own temporary namespace (see conftest).
The tests of one environment run in the order written: ready in time, the helm
test budget check, an upgrade under continuous traffic, then the uninstall.

The traffic goes through `kubectl proxy` on a loopback port to the API server's
Service proxy (`/api/v1/namespaces/NS/services/NAME:http/proxy/healthz`), which
picks a ready endpoint of the Service for every request. A `kubectl
port-forward` would not do: it pins one pod, so it breaks by design when the
rollout replaces that pod, and it would not test the Service at all.
"""

from __future__ import annotations

import uuid

import pytest

from e2e.kube import Poller, Release, api_proxy, created_at, ready_at, seconds_between, started_at
from policies.inputs.budget import Budget

pytestmark = pytest.mark.e2e

WARM_UP_REQUESTS = 5
WARM_UP_SECONDS = 60.0
HELM_TEST_SECONDS = 300.0
RELEASE_OBJECT_KINDS = "deployments,replicasets,pods,services,configmaps,serviceaccounts,poddisruptionbudgets," \
                       "horizontalpodautoscalers,networkpolicies"


def test_should_become_ready_within_the_boot_budget(
    release: Release, budget: Budget, record_property: pytest.RecordProperty
) -> None:
    limit = budget["startup"]["readySeconds"]
    pods = release.pods()
    assert pods, f"no pods match {release.selector} in {release.namespace}"
    timings = {pod["metadata"]["name"]: seconds_between(started_at(pod), ready_at(pod)) for pod in pods}
    record_property("container_start_to_ready_seconds", timings)
    print(f"{release.environment}: container start -> Ready, seconds: {timings} (budget < {limit})")
    assert all(seconds is not None for seconds in timings.values()), f"pods not running and ready: {timings}"
    assert {name: s for name, s in timings.items() if s is not None and s >= limit} == {}


def test_should_pass_the_helm_test_budget_check(release: Release, record_property: pytest.RecordProperty) -> None:
    output = release.cluster.helm_run("test", release.name, "--namespace", release.namespace, "--logs",
                                      "--timeout", "4m", timeout=HELM_TEST_SECONDS)
    record_property("helm_test_output", output)
    print(output)
    assert "budget: all checks passed" in output


def test_should_upgrade_without_failed_requests_and_replace_pods_within_budget(
    release: Release, budget: Budget, record_property: pytest.RecordProperty
) -> None:
    limit = budget["rollout"]["podReplacementSeconds"]
    old_pods = {pod["metadata"]["name"] for pod in release.pods()}
    with api_proxy(release.cluster) as proxy:
        url = f"{proxy}/api/v1/namespaces/{release.namespace}/services/{release.fullname}:http/proxy/healthz"
        poller = Poller(url)
        poller.start()
        try:
            assert poller.wait_for_successes(WARM_UP_REQUESTS, WARM_UP_SECONDS), (
                f"the Service did not answer before the upgrade: {poller.failures[:5]}")
            # A new pod-template annotation makes the upgrade replace every pod.
            release.upgrade("--set-string", f"podAnnotations.e2e-rollout={uuid.uuid4().hex[:8]}")
        finally:
            poller.stop()
    new_pods = [pod for pod in release.pods() if pod["metadata"]["name"] not in old_pods]
    replacement = {pod["metadata"]["name"]: seconds_between(created_at(pod), ready_at(pod)) for pod in new_pods}
    record_property("requests_during_upgrade", poller.requests)
    record_property("pod_created_to_ready_seconds", replacement)
    print(f"{release.environment}: {poller.requests} requests during the upgrade, "
          f"{len(poller.failures)} failed; pod created -> Ready, seconds: {replacement} (budget < {limit})")
    assert poller.failures == []
    assert poller.successes > WARM_UP_REQUESTS
    assert new_pods, f"the upgrade replaced none of the pods {sorted(old_pods)}"
    lingering = [pod["metadata"]["name"] for pod in release.pods()
                 if pod["metadata"]["name"] in old_pods and not pod["metadata"].get("deletionTimestamp")]
    assert lingering == [], "old pods still serving after the upgrade"
    assert {name: s for name, s in replacement.items() if s is None or s >= limit} == {}


def test_should_uninstall_and_leave_no_release_objects_behind(release: Release) -> None:
    release.uninstall()
    left = release.cluster.kubectl("get", RELEASE_OBJECT_KINDS, "--namespace", release.namespace,
                                   "-l", f"app.kubernetes.io/instance={release.name}", "--output=name")
    assert left.split() == []
    assert not release.is_installed()
