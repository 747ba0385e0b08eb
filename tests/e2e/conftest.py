"""Cluster tests: run only when a Kubernetes cluster answers, otherwise skip with the reason.

The cluster is the current kubeconfig context (KUBECONFIG or ~/.kube/config),
or the one named by `--kube-context` / $KUBE_CONTEXT. Reachability is checked
once with a short `kubectl version`, so a missing cluster never hangs the suite.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.kube import RELEASE, Cluster, ClusterError, Release, unreachable_reason
from policies.inputs.budget import load_budget
from policies.render.helm import Helm, HelmError
from policies.render.helmcalls import values_file_for

PROMETHEUS_OPERATOR_API = "monitoring.coreos.com/v1"


def setting(config: pytest.Config, option: str, variable: str) -> str | None:
    """A cluster-test setting: the command-line option, else the environment variable."""
    return config.getoption(option) or os.environ.get(variable) or None


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest, helm: Helm) -> Cluster:
    context = setting(request.config, "--kube-context", "KUBE_CONTEXT")
    reason = unreachable_reason(context, os.environ, Path.home())
    if reason:
        pytest.skip(reason)
    return Cluster(context, helm)


@pytest.fixture(scope="module", params=load_budget().environments, ids=lambda env: f"env={env}")
def release(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[Release]:
    """The environment installed (and waited for) in a fresh namespace that enforces the restricted
    Pod Security Standard; uninstalled and the namespace deleted afterwards, whatever happened."""
    environment = request.param
    namespace = f"pf-e2e-{environment[:4]}-{uuid.uuid4().hex[:6]}"
    extra = tuple(Path(p) for p in request.config.getoption("--e2e-values"))
    # The PrometheusRule needs the Prometheus Operator's CRD; without it the rule is left out.
    args = () if cluster.serves(PROMETHEUS_OPERATOR_API) else ("--set", "monitoring.prometheusRule.enabled=false")
    installed = Release(cluster, environment, namespace, (values_file_for(environment), *extra), args)
    cluster.kubectl("create", "namespace", namespace)
    try:
        cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
        installed.install()
        yield installed
    finally:
        try:
            if installed.is_installed():
                installed.uninstall()
        except (ClusterError, HelmError) as exc:
            warnings.warn(f"cleanup: could not uninstall {RELEASE} from {namespace}: {exc}", stacklevel=1)
        try:
            cluster.kubectl("delete", "namespace", namespace, "--wait=false")
        except ClusterError as exc:
            warnings.warn(f"cleanup: could not delete namespace {namespace}: {exc}", stacklevel=1)
