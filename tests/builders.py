"""Small builders for Kubernetes documents in rule tests.

Each helper returns a plain dict with hardened, budget-friendly defaults, so a
test changes only the one field it is about:

    index(deployment(containers=[container(securityContext={"privileged": True})]))

`**overrides` replace top-level keys of the built object (a value of None
removes the key); nested objects are replaced, not merged.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from policies.checks.context import CheckContext
from policies.inputs.budget import Budget, load_budget
from policies.inputs.yamlsource import SourcedYaml
from policies.render.manifests import Manifest, ManifestIndex
from policies.render.render import ValuesLayers

NAME = "prompted-forge-mcp"
SELECTOR = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}
HOOK_TEST = {"helm.sh/hook": "test"}
TEST_SELECTOR = {"app.kubernetes.io/name": f"{NAME}-budget-test", "app.kubernetes.io/instance": NAME}


@cache
def _real_budget() -> Budget:
    return load_budget()


def _apply(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = copy.deepcopy(value)
    return base


def security_context(**overrides: Any) -> dict[str, Any]:
    """A container securityContext meeting the `restricted` Pod Security Standard."""
    return _apply({
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }, overrides)


def pod_security_context(**overrides: Any) -> dict[str, Any]:
    return _apply({
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }, overrides)


def probe(path: str = "/healthz", port: str | int = "http", **overrides: Any) -> dict[str, Any]:
    return _apply({"httpGet": {"path": path, "port": port}, "periodSeconds": 10, "failureThreshold": 3},
                  overrides)


def resources(cpu: str = "50m", memory: str = "64Mi", cpu_limit: str = "200m", memory_limit: str = "256Mi"
              ) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def container(name: str = NAME, **overrides: Any) -> dict[str, Any]:
    """The service container: pinned image, explicit pull policy, probes, resources, hardened."""
    return _apply({
        "name": name,
        "image": "ghcr.io/prompted-forge/mcp-server:1.0.0",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": security_context(),
        "ports": [{"name": "http", "containerPort": 3000, "protocol": "TCP"}],
        "livenessProbe": probe("/healthz"),
        "readinessProbe": probe("/healthz?readiness=1", periodSeconds=5),
        "resources": resources(),
    }, overrides)


def pod_spec(containers: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    return _apply({
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(),
        "containers": containers if containers is not None else [container()],
    }, overrides)


def deployment(name: str = NAME, containers: list[dict[str, Any]] | None = None, replicas: int = 1,
               labels: dict[str, str] | None = None, spec: dict[str, Any] | None = None,
               **overrides: Any) -> dict[str, Any]:
    """A Deployment; `spec` overrides keys of the pod spec built from `containers`."""
    labels = labels if labels is not None else dict(SELECTOR)
    return _apply({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec(containers, **(spec or {}))},
        },
    }, overrides)


def pod(name: str = f"{NAME}-budget-test", containers: list[dict[str, Any]] | None = None,
        annotations: dict[str, str] | None = None, spec: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """A bare Pod (by default a `helm test` hook pod, labelled as the chart labels it)."""
    annotations = HOOK_TEST if annotations is None else annotations
    return _apply({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": dict(annotations),
                     "labels": dict(TEST_SELECTOR if labels is None else labels)},
        "spec": pod_spec(containers if containers is not None else [container("budget-test")],
                         restartPolicy="Never", **(spec or {})),
    }, overrides)


def _metadata(name: str, namespace: str | None) -> dict[str, Any]:
    return {"name": name, **({"namespace": namespace} if namespace else {})}


def service(name: str = NAME, ports: list[dict[str, Any]] | None = None,
            selector: dict[str, str] | None = None, namespace: str | None = None) -> dict[str, Any]:
    ports = ports if ports is not None else [{"name": "http", "port": 80, "targetPort": "http"}]
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(name, namespace),
            "spec": {"selector": dict(selector or SELECTOR), "ports": ports}}


def network_policy(name: str = NAME, ingress: list[dict[str, Any]] | None = None,
                   policy_types: list[str] | None = None, selector: dict[str, str] | None = None,
                   **spec: Any) -> dict[str, Any]:
    """A NetworkPolicy selecting the service pods, by default allowing only the http port."""
    body: dict[str, Any] = {
        "podSelector": {"matchLabels": dict(selector or SELECTOR)},
        "policyTypes": policy_types if policy_types is not None else ["Ingress"],
        "ingress": ingress if ingress is not None else [{"ports": [{"port": "http", "protocol": "TCP"}]}],
    }
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
            "spec": _apply(body, spec)}


def budget_test_policy(name: str = f"{NAME}-budget-test", egress: list[dict[str, Any]] | None = None,
                        **spec: Any) -> dict[str, Any]:
    """The helm test pod's policy as the chart renders it: no ingress; egress to the service's http port and DNS."""
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
           "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    body: dict[str, Any] = {
        "podSelector": {"matchLabels": dict(TEST_SELECTOR)},
        "policyTypes": ["Ingress", "Egress"],
        "egress": egress if egress is not None else [
            {"to": [{"podSelector": {"matchLabels": dict(SELECTOR)}}], "ports": [{"port": "http", "protocol": "TCP"}]},
            dns],
    }
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name,
            "annotations": dict(HOOK_TEST)}, "spec": _apply(body, spec)}


def config_map(name: str = NAME, data: dict[str, str] | None = None, namespace: str | None = None
               ) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(name, namespace), "data": dict(data or {})}


def index(*docs: dict[str, Any]) -> ManifestIndex:
    return ManifestIndex(Manifest(doc, source=f"templates/{doc['kind'].lower()}.yaml") for doc in docs)


def budget_with(environment: str, **settings: Any) -> Budget:
    """The real budget with some settings of one environment changed."""
    real = _real_budget()
    data = copy.deepcopy(real.data)
    data["environments"][environment].update(settings)
    return Budget(SourcedYaml(real.path, data, real.source.lines))


def context(*docs: dict[str, Any], environment: str = "production", budget: Budget | None = None,
            values: dict[str, Any] | None = None) -> CheckContext:
    """A CheckContext over the given documents; `values` become the merged values."""
    layers = ValuesLayers((SourcedYaml(Path("values.yaml"), values),)) if values is not None else None
    return CheckContext(environment, budget or _real_budget(), index(*docs), layers)
