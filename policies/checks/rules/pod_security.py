"""Pod Security Standards, baseline and restricted: one rule per published control.

The controls, their restricted fields and allowed values follow the page "Pod
Security Standards" on kubernetes.io, with the Pod Security admission
controller's semantics (explicit bad values fail at either level; a container
setting overrides the pod-level one only where the standard says the container
field may be left unset).

Where a control changed across Kubernetes versions it is judged at JUDGED_AT,
the lowest minor of the chart's `kubeVersion` range: the version a namespace's
`pod-security.kubernetes.io/enforce-version` label would pin for the oldest
supported cluster. So the safe sysctls do not include `tcp_rmem`/`tcp_wmem`
(1.32) and `procMount`, `runAsNonRoot` and `runAsUser` are not relaxed for pods
with `hostUsers: false` (1.35).

A value that breaks a baseline control is reported under the baseline rule
only; the restricted rule of the same name reports what baseline admits and
restricted does not (e.g. `Unconfined` seccomp is `pss.baseline.seccomp`, a
profile set nowhere is `pss.restricted.seccomp`), so one mistake is one finding.
Ephemeral containers are not walked: a pod template may not carry them at all (their own rule).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import EPHEMERAL, ContainerRef, pod_containers, pod_metadata
from policies.core.docpath import dig, key_step
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

JUDGED_AT = "1.31"
_AT = f"judged at Kubernetes {JUDGED_AT}, the chart's lowest kubeVersion"


def _control(rule_id: str, title: str, requirement: str) -> Rule:
    """A rule for one published control; the profile is the id's middle part (pss.<profile>.<name>)."""
    profile = rule_id.split(".")[1]
    return Rule(rule_id, f'Pod Security Standards {profile} "{title}": {requirement}',
                control=f'Pod Security Standards {profile}: "{title}"')


RULES = declare(
    _control("pss.baseline.hostprocess", "HostProcess",
             "windowsOptions.hostProcess is unset or false (pod and containers)"),
    _control("pss.baseline.host-namespaces", "Host Namespaces",
             "hostNetwork, hostPID and hostIPC are unset or false"),
    _control("pss.baseline.privileged-containers", "Privileged Containers",
             "securityContext.privileged is unset or false"),
    _control("pss.baseline.capabilities", "Capabilities",
             "capabilities.add holds only the default set (AUDIT_WRITE, CHOWN, ... SYS_CHROOT)"),
    _control("pss.baseline.hostpath-volumes", "HostPath Volumes",
             "no hostPath volume"),
    _control("pss.baseline.host-ports", "Host Ports",
             "hostPort is unset or 0"),
    _control("pss.baseline.apparmor", "AppArmor",
             "appArmorProfile.type is RuntimeDefault or Localhost, the beta annotation runtime/default or "
             "localhost/*"),
    _control("pss.baseline.selinux", "SELinux",
             "seLinuxOptions.type is container_t, container_init_t, container_kvm_t or container_engine_t; "
             "user and role unset"),
    _control("pss.baseline.proc-mount-type", "/proc Mount Type",
             f"procMount is unset or Default ({JUDGED_AT}: also with hostUsers: false)"),
    _control("pss.baseline.seccomp", "Seccomp",
             "seccompProfile.type is never Unconfined"),
    _control("pss.baseline.sysctls", "Sysctls",
             f"only the safe sysctls of Kubernetes {JUDGED_AT}"),
    _control("pss.restricted.volume-types", "Volume Types",
             "configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret"),
    _control("pss.restricted.privilege-escalation", "Privilege Escalation",
             "allowPrivilegeEscalation is false on every container"),
    _control("pss.restricted.running-as-non-root", "Running as Non-root",
             "runAsNonRoot is true (pod, or every container), never false"),
    _control("pss.restricted.running-as-non-root-user", "Running as Non-root user",
             "runAsUser is never 0"),
    _control("pss.restricted.seccomp", "Seccomp",
             "RuntimeDefault or Localhost is set at pod level or on every container"),
    _control("pss.restricted.capabilities", "Capabilities",
             "drop includes ALL, add holds at most NET_BIND_SERVICE"),
)

BASELINE_CAPABILITIES = frozenset({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                                   "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
APPARMOR_TYPES = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# The safe set as of 1.29 (1.32 adds net.ipv4.tcp_rmem and net.ipv4.tcp_wmem).
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
RESTRICTED_VOLUMES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                "persistentVolumeClaim", "projected", "secret"})


@dataclass(frozen=True)
class _Pod:
    """One pod template and how to report on it."""

    ctx: CheckContext
    manifest: Manifest
    spec: dict[str, Any]

    @property
    def base(self) -> str:
        return self.manifest.pod_spec_path()

    @property
    def security(self) -> dict[str, Any]:
        return self.spec.get("securityContext") or {}

    @property
    def windows(self) -> bool:
        # Restricted's privilege escalation, seccomp and capabilities controls exempt Windows pods (1.25+).
        return dig(self.spec, "os.name") == "windows"

    def fail(self, rule: str, message: str, field: str, expected: str, actual: object,
             values_key: tuple[str, ...] | None = None, container: str | None = None) -> Finding:
        return self.ctx.fail(rule, self.manifest, field, f"{message} ({_AT})", container=container,
                             expected=expected, actual=_show(actual), values_key=values_key)


def _show(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _unset_or(value: object, allowed: bool) -> bool:
    """Unset, or exactly the boolean allowed (1 is not true and 0 is not false here)."""
    return value is None or value is allowed


def _is_zero(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


def check(ctx: CheckContext) -> Iterator[Finding]:
    for manifest in ctx.manifests.workloads(include_hooks=True):
        pod = _Pod(ctx, manifest, manifest.pod_spec() or {})
        yield from _pod_level(pod)
        for ref in pod_containers(manifest):
            if ref.kind != EPHEMERAL:  # rejected outright by their own rule
                yield from _container_level(pod, ref)


def _pod_level(pod: _Pod) -> Iterator[Finding]:
    base, sc = pod.base, pod.security
    field = f"{base}.securityContext"
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if not _unset_or(pod.spec.get(host), False):
            yield pod.fail("pss.baseline.host-namespaces", f"the pod shares the host's {host[4:]} namespace",
                           f"{base}.{host}", "unset or false", pod.spec[host])
    if not _unset_or(dig(sc, "windowsOptions.hostProcess"), False):
        yield pod.fail("pss.baseline.hostprocess", "the pod runs as a Windows HostProcess",
                       f"{field}.windowsOptions.hostProcess", "unset or false",
                       sc["windowsOptions"]["hostProcess"], ("podSecurityContext", "windowsOptions"))
    yield from _volumes(pod)
    for index, sysctl in enumerate(sc.get("sysctls") or []):
        name = dig(sysctl, "name")
        if name not in SAFE_SYSCTLS:
            yield pod.fail("pss.baseline.sysctls", f"sysctl {name!r} is not in the safe set",
                           f"{field}.sysctls[{index}].name", f"one of {', '.join(sorted(SAFE_SYSCTLS))}", name,
                           ("podSecurityContext", "sysctls"))
    yield from _apparmor(pod, sc, field, ("podSecurityContext",), None)
    yield from _selinux(pod, sc, field, ("podSecurityContext",), None)
    seccomp = sc.get("seccompProfile")
    if seccomp is not None and dig(seccomp, "type") not in SECCOMP_TYPES:
        yield pod.fail("pss.baseline.seccomp", "the pod's seccomp profile is not RuntimeDefault or Localhost",
                       f"{field}.seccompProfile.type", " or ".join(SECCOMP_TYPES), dig(seccomp, "type"),
                       ("podSecurityContext", "seccompProfile"))
    if not _unset_or(sc.get("runAsNonRoot"), True):
        yield pod.fail("pss.restricted.running-as-non-root", "the pod sets runAsNonRoot to something other than "
                       "true, which fails even where containers say true", f"{field}.runAsNonRoot", "true",
                       sc["runAsNonRoot"], ("podSecurityContext", "runAsNonRoot"))
    if _is_zero(sc.get("runAsUser")):
        yield pod.fail("pss.restricted.running-as-non-root-user", "the pod runs as UID 0",
                       f"{field}.runAsUser", "non-zero or unset", sc["runAsUser"],
                       ("podSecurityContext", "runAsUser"))
    metadata, metadata_path = pod_metadata(pod.manifest)
    for key, value in sorted((metadata.get("annotations") or {}).items()):
        if key.startswith(APPARMOR_ANNOTATION) and not _apparmor_annotation_allowed(value):
            yield pod.fail("pss.baseline.apparmor", f"the AppArmor annotation for container "
                           f"{key.removeprefix(APPARMOR_ANNOTATION)!r} is {value!r}",
                           f"{metadata_path}.annotations{key_step(key)}", "runtime/default or localhost/<profile>",
                           value, ("podAnnotations",))


def _apparmor_annotation_allowed(value: object) -> bool:
    text = "" if value is None else str(value)
    return text in ("", "runtime/default") or text.startswith("localhost/")


def _volumes(pod: _Pod) -> Iterator[Finding]:
    for index, volume in enumerate(pod.spec.get("volumes") or []):
        where = f"{pod.base}.volumes[{index}]"
        sources = sorted(set(volume or {}) - {"name"})
        if "hostPath" in sources:
            yield pod.fail("pss.baseline.hostpath-volumes", f"volume {volume.get('name')!r} is a hostPath volume",
                           f"{where}.hostPath", "no hostPath", "hostPath")
        for source in sources:
            if source not in RESTRICTED_VOLUMES and source != "hostPath":
                yield pod.fail("pss.restricted.volume-types", f"volume {volume.get('name')!r} is a {source} volume",
                               f"{where}.{source}", f"one of {', '.join(sorted(RESTRICTED_VOLUMES))}", source)


def _apparmor(pod: _Pod, sc: dict[str, Any], field: str, key: tuple[str, ...], container: str | None
              ) -> Iterator[Finding]:
    profile = sc.get("appArmorProfile")
    if profile is not None and dig(profile, "type") not in APPARMOR_TYPES:
        yield pod.fail("pss.baseline.apparmor", "the AppArmor profile is not RuntimeDefault or Localhost",
                       f"{field}.appArmorProfile.type", " or ".join(APPARMOR_TYPES), dig(profile, "type"),
                       (*key, "appArmorProfile"), container)


def _selinux(pod: _Pod, sc: dict[str, Any], field: str, key: tuple[str, ...], container: str | None
             ) -> Iterator[Finding]:
    options = sc.get("seLinuxOptions")
    if options is None:
        return
    options = options or {}
    kind = options.get("type") or ""
    if kind not in SELINUX_TYPES:
        yield pod.fail("pss.baseline.selinux", f"SELinux type {kind!r} is not a container type",
                       f"{field}.seLinuxOptions.type", ", ".join(sorted(t for t in SELINUX_TYPES if t)) + " or unset",
                       kind, (*key, "seLinuxOptions", "type"), container)
    for part in ("user", "role"):
        if options.get(part):
            yield pod.fail("pss.baseline.selinux", f"an SELinux {part} is set", f"{field}.seLinuxOptions.{part}",
                           "unset", options[part], (*key, "seLinuxOptions", part), container)


def _container_level(pod: _Pod, ref: ContainerRef) -> Iterator[Finding]:
    sc = ref.container.get("securityContext") or {}
    field = f"{ref.path}.securityContext"
    key = ("securityContext",)
    name = ref.name

    def fail(rule: str, message: str, where: str, expected: str, actual: object,
             values_key: tuple[str, ...] | None = None) -> Finding:
        return pod.fail(rule, message, where, expected, actual, values_key, name)

    if not _unset_or(dig(sc, "windowsOptions.hostProcess"), False):
        yield fail("pss.baseline.hostprocess", "the container runs as a Windows HostProcess",
                   f"{field}.windowsOptions.hostProcess", "unset or false", sc["windowsOptions"]["hostProcess"],
                   (*key, "windowsOptions"))
    if not _unset_or(sc.get("privileged"), False):
        yield fail("pss.baseline.privileged-containers", "the container is privileged", f"{field}.privileged",
                   "unset or false", sc["privileged"], (*key, "privileged"))
    yield from _capabilities(pod, sc, field, name)
    for index, port in enumerate(ref.container.get("ports") or []):
        if port.get("hostPort") is not None and not _is_zero(port["hostPort"]):
            yield fail("pss.baseline.host-ports", "the container binds a host port",
                       f"{ref.path}.ports[{index}].hostPort", "unset or 0", port["hostPort"])
    yield from _apparmor(pod, sc, field, key, name)
    yield from _selinux(pod, sc, field, key, name)
    if sc.get("procMount") not in (None, "Default"):
        yield fail("pss.baseline.proc-mount-type", "the container unmasks /proc (hostUsers: false relaxes this "
                   "only from Kubernetes 1.35)", f"{field}.procMount", "unset or Default", sc["procMount"],
                   (*key, "procMount"))
    yield from _seccomp(pod, sc, field, name)
    if not pod.windows and sc.get("allowPrivilegeEscalation") is not False:
        yield fail("pss.restricted.privilege-escalation", "privilege escalation is not disabled",
                   f"{field}.allowPrivilegeEscalation", "false", sc.get("allowPrivilegeEscalation"),
                   (*key, "allowPrivilegeEscalation"))
    if not _unset_or(sc.get("runAsNonRoot"), True):
        yield fail("pss.restricted.running-as-non-root", "the container sets runAsNonRoot to something other "
                   "than true", f"{field}.runAsNonRoot", "true", sc["runAsNonRoot"], (*key, "runAsNonRoot"))
    elif sc.get("runAsNonRoot") is None and pod.security.get("runAsNonRoot") is None:
        # An explicit pod-level value other than true is already reported at pod level.
        yield fail("pss.restricted.running-as-non-root", "runAsNonRoot is true neither on the container nor on "
                   "the pod", f"{field}.runAsNonRoot", "true (here or at pod level)", None, (*key, "runAsNonRoot"))
    if _is_zero(sc.get("runAsUser")):
        yield fail("pss.restricted.running-as-non-root-user", "the container runs as UID 0", f"{field}.runAsUser",
                   "non-zero or unset", sc["runAsUser"], (*key, "runAsUser"))


def _capabilities(pod: _Pod, sc: dict[str, Any], field: str, name: str) -> Iterator[Finding]:
    caps = sc.get("capabilities") or {}
    added = [str(c) for c in caps.get("add") or []]
    beyond_default = [c for c in added if c not in BASELINE_CAPABILITIES]
    if beyond_default:
        yield pod.fail("pss.baseline.capabilities", f"the container adds {', '.join(beyond_default)}",
                       f"{field}.capabilities.add", "only capabilities of the default set",
                       ", ".join(added), ("securityContext", "capabilities", "add"), name)
    if pod.windows:
        return
    if "ALL" not in (caps.get("drop") or []):
        yield pod.fail("pss.restricted.capabilities", "the container does not drop ALL capabilities",
                       f"{field}.capabilities.drop", "a list including ALL",
                       ", ".join(map(str, caps.get("drop") or [])) or None,
                       ("securityContext", "capabilities", "drop"), name)
    beyond_restricted = [c for c in added if c in BASELINE_CAPABILITIES and c not in RESTRICTED_CAPABILITIES]
    if beyond_restricted:
        yield pod.fail("pss.restricted.capabilities", f"the container adds {', '.join(beyond_restricted)}",
                       f"{field}.capabilities.add", "at most NET_BIND_SERVICE", ", ".join(added),
                       ("securityContext", "capabilities", "add"), name)


def _seccomp(pod: _Pod, sc: dict[str, Any], field: str, name: str) -> Iterator[Finding]:
    key = ("securityContext", "seccompProfile")
    if sc.get("seccompProfile") is not None:
        kind = dig(sc, "seccompProfile.type")
        if kind not in SECCOMP_TYPES:
            yield pod.fail("pss.baseline.seccomp", "the container's seccomp profile is not RuntimeDefault or "
                           "Localhost", f"{field}.seccompProfile.type", " or ".join(SECCOMP_TYPES), kind, key, name)
        return
    # A pod-level profile that is set but not allowed is already reported at pod level.
    if not pod.windows and pod.security.get("seccompProfile") is None:
        yield pod.fail("pss.restricted.seccomp", "no seccomp profile is set on the container or the pod",
                       f"{field}.seccompProfile.type", "RuntimeDefault or Localhost (here or at pod level)", None,
                       key, name)
