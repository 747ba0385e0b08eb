"""Hardening beyond the Pod Security Standards, for every pod rendered: the usual scanner checks.

The standard's controls are policies/rules/pod_security.py; resources and probes
on every container are the resources and probes rules' business. This module
covers fixed high ids, the read-only root, images, the API token and the
NetworkPolicy in front of the pods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.context import CheckContext
from policies.findings import Finding, failure
from policies.manifests import Manifest
from policies.rules._pods import ContainerRef, containers, service_workloads
from policies.rules.rollout import selects

RULES = {
    "security.high-uid-gid": "containers run with a fixed high UID and GID (>= 10000), beyond the standard's "
                             "non-zero UID",
    "security.read-only-root": "the root filesystem is read-only",
    "security.image-tag": "images carry a pinned tag or digest (never latest) where the budget requires it",
    "security.image-digest": "the service image is referenced by digest where the budget requires it",
    "security.image-pull-policy": "imagePullPolicy is explicit",
    "security.service-account-token": "the service account token is not mounted into pods",
    "security.network-policy": "a NetworkPolicy restricts ingress to the service's pods",
    "security.network-policy-ports": "ingress is open only to the ports the Service targets "
                                     "(http, and metrics where metrics are on)",
}
MIN_ID = 10000


def _effective(pod: dict[str, Any], container: dict[str, Any], key: str) -> tuple[Any, str]:
    """A security setting and the values key that set it, falling back to the pod level as Kubernetes does."""
    own = (container.get("securityContext") or {}).get(key)
    if own is not None:
        return own, "securityContext"
    inherited = (pod.get("securityContext") or {}).get(key)
    return inherited, "podSecurityContext" if inherited is not None else "securityContext"


def split_image(image: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of an image reference; a registry port is not a tag."""
    reference, _, digest = image.partition("@")
    slash = reference.rfind("/")
    repository, colon, tag = reference.rpartition(":")
    if not colon or repository.rfind("/") != slash:
        return reference, "", digest
    return repository, tag, digest


def check(ctx: CheckContext) -> Iterator[Finding]:
    seen_pods: set[str] = set()
    for ref in containers(ctx.manifests, include_hooks=True):
        yield from _container_checks(ctx, ref)
        if ref.manifest.ref not in seen_pods:
            seen_pods.add(ref.manifest.ref)
            yield from _pod_checks(ctx, ref.manifest, ref.pod)
    for account in ctx.manifests.of_kind("ServiceAccount"):
        if account.doc.get("automountServiceAccountToken") is not False:
            yield failure("security.service-account-token", "the ServiceAccount mounts its token by default",
                          environment=ctx.environment, resource=account.ref, source=account.source,
                          field="automountServiceAccountToken", expected="false",
                          actual=str(account.doc.get("automountServiceAccountToken", "unset (true)")),
                          values_key=("serviceAccount", "automountToken"))
    yield from _network_policy(ctx)


def _container_checks(ctx: CheckContext, ref: ContainerRef) -> Iterator[Finding]:
    pod, container, manifest = ref.pod, ref.container, ref.manifest
    sc = container.get("securityContext") or {}
    # Hook pods reuse the chart's security contexts; other keys do not apply to them.
    chart_owned = not manifest.is_hook
    field = f"{ref.path}.securityContext"

    def fail(rule: str, message: str, where: str, expected: str, actual: object,
             values_key: tuple[str, ...] | None = None) -> Finding:
        return failure(rule, message, field=where, expected=expected, actual=str(actual),
                       values_key=values_key, environment=ctx.environment, resource=manifest.ref,
                       container=ref.name, source=manifest.source)

    def setting(key: str) -> tuple[Any, tuple[str, ...]]:
        value, owner = _effective(pod, container, key)
        return value, (owner, key)

    for id_key in ("runAsUser", "runAsGroup"):
        value, key = setting(id_key)
        if isinstance(value, bool) or not isinstance(value, int) or value < MIN_ID:
            yield fail("security.high-uid-gid", f"{id_key} is not a fixed high id", f"{field}.{id_key}",
                       f">= {MIN_ID}", "unset" if value is None else value, key)
    if sc.get("readOnlyRootFilesystem") is not True:
        yield fail("security.read-only-root", "the root filesystem is writable",
                   f"{field}.readOnlyRootFilesystem", "true", sc.get("readOnlyRootFilesystem", "unset"),
                   ("securityContext", "readOnlyRootFilesystem"))
    if not container.get("imagePullPolicy"):
        yield fail("security.image-pull-policy", "imagePullPolicy is left to the cluster default",
                   f"{ref.path}.imagePullPolicy", "Always or IfNotPresent", "unset",
                   ("image", "pullPolicy") if chart_owned else ("budgetTest", "image", "pullPolicy"))
    yield from _image_checks(ctx, ref, fail)


def _image_checks(ctx: CheckContext, ref: ContainerRef, fail: Any) -> Iterator[Finding]:
    image = str(ref.container.get("image") or "")
    _, tag, digest = split_image(image)
    where = f"{ref.path}.image"
    if ctx.env_budget.get("requirePinnedImageTag") and not digest and tag in ("", "latest"):
        key = ("image", "tag") if not ref.manifest.is_hook else ("budgetTest", "image", "tag")
        yield fail("security.image-tag", f"image {image!r} is not pinned", where,
                   "a version tag or @sha256 digest", image or "unset", key)
    if ctx.env_budget.get("requireImageDigest") and not ref.manifest.is_hook and not digest:
        yield fail("security.image-digest", f"image {image!r} is not referenced by digest", where,
                   "repository@sha256:<digest> (set image.digest)", image or "unset", ("image", "digest"))


def _pod_checks(ctx: CheckContext, manifest: Manifest, pod: dict[str, Any]) -> Iterator[Finding]:
    base = manifest.pod_spec_path()
    common = dict(environment=ctx.environment, resource=manifest.ref, source=manifest.source)
    if pod.get("automountServiceAccountToken") is not False:
        yield failure("security.service-account-token", "the API token is mounted into the pod",
                      field=f"{base}.automountServiceAccountToken", expected="false",
                      actual=str(pod.get("automountServiceAccountToken", "unset (true)")),
                      values_key=("serviceAccount", "automountToken"), **common)


def _pod_labels(workload: Manifest) -> dict[str, str]:
    template = (workload.doc.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


def _policy_types(policy: dict[str, Any]) -> list[str]:
    """policyTypes as Kubernetes defaults them: Ingress always, Egress when egress rules exist."""
    spec = policy.get("spec") or {}
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if spec.get("egress") else [])]


def served_ports(ctx: CheckContext, workload: Manifest) -> set[object]:
    """Names and numbers of the container ports a Service routes to (all declared ports when no Service)."""
    labels = _pod_labels(workload)
    declared: dict[object, set[object]] = {}
    for container in (workload.pod_spec() or {}).get("containers") or []:
        for port in container.get("ports") or []:
            same = {port.get("containerPort"), *([port["name"]] if port.get("name") else [])}
            for handle in same:
                declared.setdefault(handle, set()).update(same)
    services = [s for s in ctx.manifests.of_kind("Service")
                if selects({"matchLabels": (s.doc.get("spec") or {}).get("selector")}, labels)]
    if not services:
        return set(declared)
    served: set[object] = set()
    for service in services:
        for port in (service.doc.get("spec") or {}).get("ports") or []:
            served |= declared.get(port.get("targetPort", port.get("port")), set())
    return served


def _network_policy(ctx: CheckContext) -> Iterator[Finding]:
    policies = ctx.manifests.of_kind("NetworkPolicy")
    for workload in service_workloads(ctx.manifests):
        labels = _pod_labels(workload)
        selecting = [p for p in policies if selects((p.doc.get("spec") or {}).get("podSelector"), labels)
                     and "Ingress" in _policy_types(p.doc)]
        if not selecting:
            yield failure("security.network-policy", "no NetworkPolicy restricts ingress to these pods",
                          environment=ctx.environment, resource=workload.ref, source=workload.source,
                          field="NetworkPolicy", expected="a policy of type Ingress selecting the pod labels",
                          actual="none", values_key=("networkPolicy", "enabled"))
            continue
        allowed = served_ports(ctx, workload)
        shown = ", ".join(sorted(map(str, allowed))) or "none"
        for policy in selecting:
            yield from _ingress_ports(ctx, policy, allowed, shown)


def _ingress_ports(ctx: CheckContext, policy: Manifest, allowed: set[object], shown: str
                   ) -> Iterator[Finding]:
    common = dict(environment=ctx.environment, resource=policy.ref, source=policy.source,
                  expected=f"only ports {shown}", values_key=("networkPolicy",))
    for index, rule in enumerate((policy.doc.get("spec") or {}).get("ingress") or []):
        ports = rule.get("ports") or []
        if not ports:
            yield failure("security.network-policy-ports", "an ingress rule opens every port",
                          field=f"spec.ingress[{index}].ports", actual="all ports", **common)
        for number, port in enumerate(ports):
            where = f"spec.ingress[{index}].ports[{number}]"
            if "port" not in port:
                yield failure("security.network-policy-ports", "an ingress port entry opens every port",
                              field=where, actual="no port", **common)
            elif port.get("endPort") is not None:
                yield failure("security.network-policy-ports", "an ingress rule opens a port range",
                              field=f"{where}.endPort", actual=f"{port['port']}-{port['endPort']}", **common)
            elif port["port"] not in allowed:
                yield failure("security.network-policy-ports", f"ingress is open to port {port['port']}, "
                              "which no Service routes to", field=f"{where}.port", actual=str(port["port"]),
                              **common)
