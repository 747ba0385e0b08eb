"""The Pod Security Standards control table as published on kubernetes.io for Kubernetes 1.31.

Transcribed from the page "Pod Security Standards" (the Baseline and Restricted
tables: control, restricted fields, allowed values), not from the rules under
test. Each field is written as the page writes it; `[*]` is any list item.
`forbidden` holds values outside "Allowed Values" that the tests try; where the
page gives a closed list of allowed values, every one of them is listed.

Version notes from the page and the sysctl page for 1.31: the safe sysctls do
not yet include net.ipv4.tcp_rmem / tcp_wmem (1.32); container_engine_t is an
allowed SELinux type from 1.31.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class _Unset:
    def __repr__(self) -> str:
        return "undefined"


UNSET: Any = _Unset()

DEFAULT_CAPABILITIES = ("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
SAFE_SYSCTLS_1_31 = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
                     "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
                     "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                     "net.ipv4.tcp_keepalive_probes")
RESTRICTED_VOLUME_TYPES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                           "projected", "secret")
NON_CORE_VOLUME_TYPES = ("gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
                         "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte",
                         "azureDisk", "portworxVolume", "photonPersistentDisk", "scaleIO", "storageos")
CONTAINERS = ("spec.containers[*]", "spec.initContainers[*]")


@dataclass(frozen=True)
class Control:
    profile: str  # baseline | restricted
    name: str
    fields: tuple[str, ...]
    allowed: tuple[Any, ...]
    forbidden: tuple[Any, ...]


def _containers(suffix: str) -> tuple[str, ...]:
    return tuple(f"{c}.{suffix}" for c in CONTAINERS)


def _pod_and_containers(suffix: str) -> tuple[str, ...]:
    return (f"spec.securityContext.{suffix}", *_containers(f"securityContext.{suffix}"))


CONTROLS: tuple[Control, ...] = (
    # Baseline
    Control("baseline", "HostProcess", _pod_and_containers("windowsOptions.hostProcess"),
            (UNSET, False), (True,)),
    Control("baseline", "Host Namespaces", ("spec.hostNetwork", "spec.hostPID", "spec.hostIPC"),
            (UNSET, False), (True,)),
    Control("baseline", "Privileged Containers", _containers("securityContext.privileged"),
            (UNSET, False), (True,)),
    Control("baseline", "Capabilities", _containers("securityContext.capabilities.add"),
            (UNSET, *([c] for c in DEFAULT_CAPABILITIES)), (["SYS_ADMIN"], ["NET_RAW"], ["CAP_SYS_ADMIN"])),
    Control("baseline", "HostPath Volumes", ("spec.volumes[*].hostPath",),
            (UNSET,), ({"path": "/var/run"},)),
    Control("baseline", "Host Ports", _containers("ports[*].hostPort"),
            (UNSET, 0), (80, 8080)),
    Control("baseline", "AppArmor", _pod_and_containers("appArmorProfile.type"),
            (UNSET, "RuntimeDefault", "Localhost"), ("Unconfined",)),
    Control("baseline", "AppArmor",
            ("metadata.annotations['container.apparmor.security.beta.kubernetes.io/*']",),
            (UNSET, "runtime/default", "localhost/k8s-apparmor-example"), ("unconfined",)),
    Control("baseline", "SELinux", _pod_and_containers("seLinuxOptions.type"),
            (UNSET, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"),
            ("spc_t", "unconfined_t")),
    Control("baseline", "SELinux", (*_pod_and_containers("seLinuxOptions.user"),
                                    *_pod_and_containers("seLinuxOptions.role")),
            (UNSET, ""), ("system_u", "sysadm_r")),
    Control("baseline", "/proc Mount Type", _containers("securityContext.procMount"),
            (UNSET, "Default"), ("Unmasked",)),
    Control("baseline", "Seccomp", _pod_and_containers("seccompProfile.type"),
            (UNSET, "RuntimeDefault", "Localhost"), ("Unconfined",)),
    Control("baseline", "Sysctls", ("spec.securityContext.sysctls[*].name",),
            (UNSET, *SAFE_SYSCTLS_1_31), ("kernel.msgmax", "net.core.somaxconn", "net.ipv4.tcp_rmem",
                                          "net.ipv4.tcp_wmem")),
    # Restricted: everything from baseline, plus
    Control("restricted", "Volume Types", ("spec.volumes[*]",),
            RESTRICTED_VOLUME_TYPES, ("hostPath", *NON_CORE_VOLUME_TYPES)),
    Control("restricted", "Privilege Escalation", _containers("securityContext.allowPrivilegeEscalation"),
            (False,), (UNSET, True)),
    # The container fields may be undefined if the pod-level field is true (and the converse: see the tests).
    Control("restricted", "Running as Non-root", _pod_and_containers("runAsNonRoot"),
            (True, UNSET), (False,)),
    Control("restricted", "Running as Non-root user", _pod_and_containers("runAsUser"),
            (UNSET, 1, 1000, 65534), (0,)),
    # The container fields may be undefined if the pod-level field is set appropriately, and conversely.
    Control("restricted", "Seccomp", _pod_and_containers("seccompProfile.type"),
            (UNSET, "RuntimeDefault", "Localhost"), ("Unconfined",)),
    Control("restricted", "Capabilities", _containers("securityContext.capabilities.drop"),
            (["ALL"], ["NET_RAW", "ALL"]), (UNSET, [], ["NET_RAW"], ["all"])),
    Control("restricted", "Capabilities", _containers("securityContext.capabilities.add"),
            (UNSET, ["NET_BIND_SERVICE"]), (["CHOWN"], ["SYS_ADMIN"])),
)


def rule_id(control: Control) -> str:
    """The rule named for a control: pss.<profile>.<control name in lower-case words>."""
    words = "".join(ch if ch.isalnum() else " " for ch in control.name.lower()).split()
    return f"pss.{control.profile}.{'-'.join(words)}"


def baseline_forbids(control: Control, value: Any) -> Control | None:
    """The baseline control that already forbids this value of a restricted control, if any.

    Restricted is "everything from the baseline profile, plus": a value both forbid
    is one mistake, reported under the baseline control.
    """
    if control.profile != "restricted":
        return None
    for other in CONTROLS:
        if other.profile != "baseline":
            continue
        if control.name == "Volume Types" and f"spec.volumes[*].{value}" in other.fields:
            return other  # "In addition to restricting HostPath volumes, ..."
        if other.name == control.name and value in other.forbidden and set(other.fields) & set(control.fields):
            return other
    return None


def restricted_forbids(control: Control, field: str, value: Any) -> list[Control]:
    """The restricted controls that forbid a value a baseline control allows at the same field.

    A value the baseline admits can still break the restricted profile (adding CHOWN, for one): the
    restricted table's allowed values for that field are a closed list, so anything outside it fails there.
    """
    if control.profile != "baseline":
        return []
    return [other for other in CONTROLS
            if other.profile == "restricted" and field in other.fields and value not in other.allowed]
