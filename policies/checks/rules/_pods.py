"""The one walk over the pods and containers of a render.

Every container comes with its kind, as Kubernetes runs it:
  app        spec.containers[]
  init       spec.initContainers[] without restartPolicy: Always (runs to completion, one at a time)
  sidecar    spec.initContainers[] with restartPolicy: Always (a native sidecar: starts in order, then
             runs for the pod's whole life)
  ephemeral  spec.ephemeralContainers[] (debug containers; never valid in a template)
and a pod's effective requests and limits are computed here, once, for every rule and report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from policies.core.docpath import mapping_at
from policies.core.quantity import QuantityError, parse_resource
from policies.inputs.budget import KINDS, RESOURCES
from policies.render.manifests import Manifest, ManifestIndex

APP, INIT, SIDECAR, EPHEMERAL = "app", "init", "sidecar", "ephemeral"
# Pod spec fields in the order Kubernetes starts their containers.
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
SERVICE_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# Values that switch a PF_*_ENABLED feature flag on (compared trimmed and lower-cased).
TRUTHY = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class ContainerRef:
    manifest: Manifest
    pod: dict[str, Any]
    container: dict[str, Any]
    path: str  # field path of the container, e.g. spec.template.spec.containers[0]
    kind: str = APP  # APP, INIT, SIDECAR or EPHEMERAL

    @property
    def name(self) -> str:
        return str(self.container.get("name", "?"))

    @property
    def init(self) -> bool:
        """Declared under initContainers (an ordinary init container or a native sidecar)."""
        return self.kind in (INIT, SIDECAR)


def container_kind(field: str, container: dict[str, Any]) -> str:
    if field == "initContainers":
        return SIDECAR if container.get("restartPolicy") == "Always" else INIT
    return EPHEMERAL if field == "ephemeralContainers" else APP


def pod_containers(manifest: Manifest) -> list[ContainerRef]:
    """Every container of a workload's pod, in start order: init and sidecar, app, ephemeral."""
    pod = manifest.pod_spec() or {}
    base = manifest.pod_spec_path()
    refs = []
    for field in CONTAINER_FIELDS:
        for index, container in enumerate(pod.get(field) or []):
            if isinstance(container, dict):
                refs.append(ContainerRef(manifest, pod, container, f"{base}.{field}[{index}]",
                                         container_kind(field, container)))
    return refs


def containers(manifests: ManifestIndex, include_hooks: bool = False, include_init: bool = True
               ) -> Iterator[ContainerRef]:
    """Every container of every workload (helm hooks only when asked); init and sidecar unless excluded."""
    for manifest in manifests.workloads(include_hooks=include_hooks):
        for ref in pod_containers(manifest):
            if include_init or not ref.init:
                yield ref


def service_workloads(manifests: ManifestIndex) -> list[Manifest]:
    """The long-running workloads (a hook annotation does not exempt them): what the rollout, probe and timing rules
    govern."""
    return [m for m in manifests.workloads() if m.kind in SERVICE_KINDS]


def budgeted_workloads(manifests: ManifestIndex) -> list[Manifest]:
    """Every pod-making object but a hook Pod or Job (CronJobs too): the resource budget is per pod."""
    return manifests.workloads()


def pod_metadata(manifest: Manifest) -> tuple[dict[str, Any], str]:
    """The pod template's metadata (a Pod's own) and its field path."""
    if manifest.kind == "Pod":
        return mapping_at(manifest.doc, "metadata"), "metadata"
    template_path = manifest.pod_spec_path().removesuffix(".spec")
    return mapping_at(manifest.doc, f"{template_path}.metadata"), f"{template_path}.metadata"


def pod_labels(manifest: Manifest) -> dict[str, str]:
    """The labels a workload's pods carry: what Services, NetworkPolicies and disruption budgets select."""
    return pod_metadata(manifest)[0].get("labels") or {}


def owning_hpa(manifests: ManifestIndex, workload: Manifest) -> Manifest | None:
    """The HorizontalPodAutoscaler whose scaleTargetRef names the workload, if any."""
    for hpa in manifests.of_kind("HorizontalPodAutoscaler"):
        target = mapping_at(hpa.doc, "spec.scaleTargetRef")
        if target.get("kind") == workload.kind and target.get("name") == workload.name:
            return hpa
    return None


# -- effective resources ---------------------------------------------------------------------------------------
# Kubernetes' rule (https://kubernetes.io/docs/concepts/resource-management/effective-pod-requests-limits/ and
# https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers):
#   effective = max( sum(app containers) + sum(every sidecar),
#                    max over ordinary init containers of (itself + the sidecars listed before it) )
#               + pod overhead (from the RuntimeClass, added at admission)
# A missing limit is no limit: the pod's effective limit is then unbounded. A missing request defaults to the
# limit when one is set (the API server copies it), else to nothing.

Key = tuple[str, str]  # (requests|limits, cpu|memory)


def container_amount(container: dict[str, Any], kind: str, resource: str) -> Decimal | None:
    """A container's request or limit in base units; None for a limit that is not set (unbounded)."""
    spec = container.get("resources") or {}
    raw = _resource_list(spec, kind).get(resource)
    if raw is None and kind == "requests":
        raw = _resource_list(spec, "limits").get(resource)
        if raw is None:
            return Decimal(0)
    if raw is None:
        return None
    try:
        return parse_resource(resource, raw)
    except QuantityError:
        # Reported by resources.quantity; an unreadable request counts as nothing, a limit as no limit.
        return Decimal(0) if kind == "requests" else None


def _resource_list(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    """resources.requests or resources.limits; {} when unset or not a mapping (the schema reports that)."""
    block = resources.get(kind) or {}
    return block if isinstance(block, dict) else {}


@dataclass(frozen=True)
class Term:
    """One addend of an effective figure: a container (or the pod overhead) and its amount."""

    label: str  # "sidecar log-shipper", "app prompted-forge-mcp", "pod overhead"
    amount: Decimal | None
    ref: ContainerRef | None = None


@dataclass(frozen=True)
class EffectiveFigure:
    kind: str
    resource: str
    amount: Decimal | None  # None: unbounded (a container in the deciding phase sets no limit)
    phase: str  # "running" (app + sidecars) or "init <name>" (an init container and the sidecars before it)
    terms: tuple[Term, ...]  # the deciding phase's addends, in start order, overhead first

    def pushed_over(self, allowed: Decimal) -> tuple[Term, Decimal] | None:
        """The addend whose amount first takes the running total past `allowed`, and the total before it."""
        total = Decimal(0)
        for term in self.terms:
            if term.amount is None:
                return term, total
            if total + term.amount > allowed:
                return term, total
            total += term.amount
        return None


def _sum(terms: list[Term]) -> Decimal | None:
    if any(t.amount is None for t in terms):
        return None
    return sum((t.amount for t in terms if t.amount is not None), Decimal(0))


def _greater(a: Decimal | None, b: Decimal | None) -> bool:
    """a > b where None is unbounded."""
    if a is None:
        return b is not None
    return b is not None and a > b


def effective_figure(refs: list[ContainerRef], kind: str, resource: str, overhead: Decimal) -> EffectiveFigure:
    """A pod's effective request or limit for one resource, with the containers that make it up."""
    # Overhead is added to a limit only when the pod has one (the kubelet leaves an unlimited pod unlimited).
    head = [Term("pod overhead", overhead)] if overhead else []
    sidecars: list[Term] = []
    init_peak: list[Term] | None = None
    init_name = ""
    for ref in refs:
        if ref.kind not in (INIT, SIDECAR):
            continue
        term = Term(f"{ref.kind} {ref.name}", container_amount(ref.container, kind, resource), ref)
        if ref.kind == SIDECAR:
            sidecars.append(term)
            continue
        candidate = [*sidecars, term]
        if init_peak is None or _greater(_sum(candidate), _sum(init_peak)):
            init_peak, init_name = candidate, ref.name
    apps = [Term(f"app {r.name}", container_amount(r.container, kind, resource), r) for r in refs if r.kind == APP]
    running = [*sidecars, *apps]
    terms, phase = running, "running"
    if init_peak is not None and _greater(_sum(init_peak), _sum(running)):
        terms, phase = init_peak, f"init {init_name}"
    total = _sum(terms)
    return EffectiveFigure(kind, resource, None if total is None else total + overhead, phase,
                           tuple(head + terms))


def effective_resources(refs: list[ContainerRef], overhead: dict[str, Decimal]) -> dict[Key, EffectiveFigure]:
    """Every effective figure of a pod: requests and limits of cpu and memory."""
    return {(kind, resource): effective_figure(refs, kind, resource, overhead.get(resource, Decimal(0)))
            for kind in KINDS for resource in RESOURCES}


def declared_overhead(pod: dict[str, Any], manifests: ManifestIndex, runtime_overheads: dict[str, Any]
                      ) -> dict[str, Decimal] | None:
    """The pod overhead admission will set: from the RuntimeClass the pod names, found in the render or else in
    the budget's runtimeClassOverhead. {} when the pod names no RuntimeClass; None when its overhead is unknown.

    A template's own spec.overhead is ignored: admission fills it from the RuntimeClass (and rejects a mismatch).
    """
    name = pod.get("runtimeClassName")
    if not name:
        return {}
    for runtime_class in manifests.of_kind("RuntimeClass"):
        if runtime_class.name == name:
            fixed = mapping_at(runtime_class.doc, "overhead.podFixed")
            return _parse_overhead(fixed)
    if name in runtime_overheads:
        return _parse_overhead(runtime_overheads[name] or {})
    return None


def _parse_overhead(fixed: dict[str, Any]) -> dict[str, Decimal]:
    parsed = {}
    for resource in RESOURCES:
        if resource in fixed:
            try:
                parsed[resource] = parse_resource(resource, fixed[resource])
            except QuantityError:
                parsed[resource] = Decimal(0)
    return parsed


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
    return sorted(k for k, v in env.items() if k.startswith("PF_") and k.endswith("_ENABLED") and switched_on(v))


def switched_on(value: str) -> bool:
    """A feature flag's value reads as on: true, 1, yes or on, in any case, surrounding blanks ignored."""
    return value.strip().lower() in TRUTHY
