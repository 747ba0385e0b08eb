"""Pod Security Standards "restricted" and the usual scanner checks, for every pod rendered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.context import CheckContext
from policies.findings import Finding, failure
from policies.rules._pods import containers, service_workloads
from policies.rules.rollout import selects

RULES = {
    "security.privileged": "no privileged container",
    "security.privilege-escalation": "allowPrivilegeEscalation is false",
    "security.capabilities": "all capabilities are dropped (only NET_BIND_SERVICE may be added)",
    "security.non-root": "containers run as non-root with a fixed high UID and GID (>= 10000)",
    "security.seccomp": "the seccomp profile is RuntimeDefault or Localhost",
    "security.read-only-root": "the root filesystem is read-only",
    "security.host-access": "no host network, PID or IPC namespace, hostPort or hostPath volume",
    "security.image-tag": "images carry a pinned tag or digest (never latest) where the budget requires it",
    "security.image-pull-policy": "imagePullPolicy is explicit",
    "security.service-account-token": "the service account token is not mounted into pods",
    "security.network-policy": "a NetworkPolicy selects the service's pods",
}
MIN_ID = 10000


def _effective(pod: dict[str, Any], container: dict[str, Any], key: str) -> Any:
    """A container security setting, falling back to the pod-level one as Kubernetes does."""
    own = (container.get("securityContext") or {}).get(key)
    return own if own is not None else (pod.get("securityContext") or {}).get(key)


def check(ctx: CheckContext) -> Iterator[Finding]:
    require_tag = bool(ctx.env_budget.get("requirePinnedImageTag"))
    seen_pods: set[str] = set()
    for ref in containers(ctx.manifests, include_hooks=True):
        pod, container, manifest = ref.pod, ref.container, ref.manifest
        sc = container.get("securityContext") or {}
        key = ("securityContext",) if not manifest.is_hook else None
        common = dict(environment=ctx.environment, resource=manifest.ref, container=ref.name,
                      source=manifest.source)
        field = f"{ref.path}.securityContext"

        def fail(rule: str, message: str, where: str, expected: str, actual: object,
                 values_key: tuple[str, ...] | None = key, **extra: Any) -> Finding:
            return failure(rule, message, field=where, expected=expected, actual=str(actual),
                           values_key=values_key, **common, **extra)

        if sc.get("privileged"):
            yield fail("security.privileged", "container is privileged", f"{field}.privileged", "false", True)
        if sc.get("allowPrivilegeEscalation") is not False:
            yield fail("security.privilege-escalation", "privilege escalation is not disabled",
                       f"{field}.allowPrivilegeEscalation", "false", sc.get("allowPrivilegeEscalation"))
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []) or set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            yield fail("security.capabilities", "capabilities are not all dropped", f"{field}.capabilities",
                       "drop [ALL], add at most [NET_BIND_SERVICE]", caps or "unset")
        for id_key in ("runAsUser", "runAsGroup"):
            value = _effective(pod, container, id_key)
            if not isinstance(value, int) or value < MIN_ID:
                yield fail("security.non-root", f"{id_key} is not a fixed high id", f"{field}.{id_key}",
                           f">= {MIN_ID}", value, values_key=("podSecurityContext", id_key) if key else None)
        if _effective(pod, container, "runAsNonRoot") is not True:
            yield fail("security.non-root", "runAsNonRoot is not true", f"{field}.runAsNonRoot", "true",
                       _effective(pod, container, "runAsNonRoot"))
        seccomp = (_effective(pod, container, "seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield fail("security.seccomp", "no RuntimeDefault seccomp profile", f"{field}.seccompProfile.type",
                       "RuntimeDefault", seccomp)
        if sc.get("readOnlyRootFilesystem") is not True:
            yield fail("security.read-only-root", "the root filesystem is writable",
                       f"{field}.readOnlyRootFilesystem", "true", sc.get("readOnlyRootFilesystem"))
        for index, port in enumerate(container.get("ports") or []):
            if port.get("hostPort"):
                yield fail("security.host-access", "container binds a host port", f"{ref.path}.ports[{index}].hostPort",
                           "unset", port["hostPort"], values_key=None)
        if not container.get("imagePullPolicy"):
            yield fail("security.image-pull-policy", "imagePullPolicy is left to the cluster default",
                       f"{ref.path}.imagePullPolicy", "Always or IfNotPresent", "unset",
                       values_key=("image", "pullPolicy") if key else None)
        if require_tag and not manifest.is_hook:
            image = str(container.get("image", ""))
            name, _, tag = image.rpartition(":") if "@" not in image else (image, "", "digest")
            if "/" in tag or not name:
                tag = ""
            if tag in ("", "latest"):
                yield fail("security.image-tag", f"image {image!r} is not pinned",
                           f"{ref.path}.image", "a version tag or @sha256 digest", image or "unset",
                           values_key=("image", "tag"))
        if manifest.ref not in seen_pods:
            seen_pods.add(manifest.ref)
            yield from _pod_checks(ctx, manifest.pod_spec_path(), pod, common)

    yield from _network_policy(ctx)


def _pod_checks(ctx: CheckContext, base: str, pod: dict[str, Any], common: dict[str, Any]) -> Iterator[Finding]:
    common = {k: v for k, v in common.items() if k != "container"}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            yield failure("security.host-access", f"pod shares the host's {host[4:]} namespace",
                          field=f"{base}.{host}", expected="false", actual="true", **common)
    for index, volume in enumerate(pod.get("volumes") or []):
        if "hostPath" in volume:
            yield failure("security.host-access", "pod mounts a hostPath volume",
                          field=f"{base}.volumes[{index}].hostPath", expected="no hostPath",
                          actual=str(volume["hostPath"].get("path")), **common)
    if pod.get("automountServiceAccountToken") is not False:
        yield failure("security.service-account-token", "the API token is mounted into the pod",
                      field=f"{base}.automountServiceAccountToken", expected="false",
                      actual=str(pod.get("automountServiceAccountToken", "unset (true)")),
                      values_key=("serviceAccount", "automountToken"), **common)


def _network_policy(ctx: CheckContext) -> Iterator[Finding]:
    policies = ctx.manifests.of_kind("NetworkPolicy")
    for workload in service_workloads(ctx.manifests):
        labels = (((workload.doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not any(selects((p.doc.get("spec") or {}).get("podSelector"), labels) for p in policies):
            yield failure("security.network-policy", "no NetworkPolicy selects these pods",
                          environment=ctx.environment, resource=workload.ref, source=workload.source,
                          field="NetworkPolicy", expected="a policy selecting the pod labels", actual="none",
                          values_key=("networkPolicy", "enabled"))
