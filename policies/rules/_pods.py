"""Shared walks over the pods and containers of a render."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policies.manifests import Manifest, ManifestIndex


@dataclass(frozen=True)
class ContainerRef:
    manifest: Manifest
    pod: dict[str, Any]
    container: dict[str, Any]
    path: str  # field path of the container, e.g. spec.template.spec.containers[0]
    init: bool = False

    @property
    def name(self) -> str:
        return str(self.container.get("name", "?"))


def containers(manifests: ManifestIndex, include_hooks: bool = False, include_init: bool = True
               ) -> Iterator[ContainerRef]:
    for manifest in manifests.workloads(include_hooks=include_hooks):
        pod = manifest.pod_spec() or {}
        base = manifest.pod_spec_path()
        for field in ("initContainers", "containers") if include_init else ("containers",):
            for index, container in enumerate(pod.get(field) or []):
                yield ContainerRef(manifest, pod, container, f"{base}.{field}[{index}]", field == "initContainers")


def service_workloads(manifests: ManifestIndex) -> list[Manifest]:
    """The long-running workloads (not helm hooks): what the budget governs."""
    return [m for m in manifests.workloads() if m.kind in ("Deployment", "StatefulSet", "DaemonSet")]


def main_container(manifest: Manifest) -> tuple[dict[str, Any], str] | None:
    pod = manifest.pod_spec() or {}
    items = pod.get("containers") or []
    if not items:
        return None
    return items[0], f"{manifest.pod_spec_path()}.containers[0]"


def container_env(manifests: ManifestIndex, container: dict[str, Any]) -> dict[str, str]:
    """The environment a container sees from its ConfigMaps (envFrom) and literal `env` entries."""
    env: dict[str, str] = {}
    config_maps = {m.name: m for m in manifests.of_kind("ConfigMap")}
    for source in container.get("envFrom") or []:
        ref = (source.get("configMapRef") or {}).get("name")
        if ref in config_maps:
            data = config_maps[ref].doc.get("data") or {}
            env.update({f"{source.get('prefix', '')}{k}": str(v) for k, v in data.items()})
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
    return env


def enabled_flags(env: dict[str, str]) -> list[str]:
    """Feature flags switched on: PF_*_ENABLED variables whose value is true."""
    return sorted(k for k, v in env.items() if k.startswith("PF_") and k.endswith("_ENABLED")
                  and v.strip().lower() in ("true", "1", "yes", "on"))
