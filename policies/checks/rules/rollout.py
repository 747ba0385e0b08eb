"""Rollout safety: zero-downtime rolling updates, enough replicas, drains never blocked.

Per workload kind, as its controller rolls it out:
  Deployment   RollingUpdate with maxUnavailable 0 and a surge pod (maxSurge >= 1).
  StatefulSet  replaces each pod in place: it cannot surge, so it can never meet maxUnavailable 0; OnDelete never
               rolls out at all, and a partition leaves pods on the old revision.
  DaemonSet    RollingUpdate with maxUnavailable 0 and maxSurge >= 1 (a new pod starts beside the old one on each
               node); it has no replica count, so the replica minimum and the disruption budget do not apply.
Jobs, CronJobs and bare Pods do not roll out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import owning_hpa, pod_labels, service_workloads
from policies.core.docpath import dig, mapping_at
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

RULES = declare(
    Rule("rollout.strategy", "Deployments, StatefulSets and DaemonSets roll out with RollingUpdate (never Recreate or "
                             "OnDelete, no StatefulSet partition, no paused Deployment)",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
    Rule("rollout.max-unavailable", "maxUnavailable is 0 (zero downtime); a StatefulSet, which cannot surge, never is",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
    Rule("rollout.max-surge", "maxSurge allows at least one extra pod (with maxUnavailable 0 a rollout needs it), "
                              "for Deployments and DaemonSets", spec="Deployment Pipeline SLAs / Rollout Performance"),
    Rule("rollout.min-replicas", "the environment keeps its minimum number of replicas "
                                 "(HPA minReplicas when autoscaling)",
         spec="Kubernetes Resource Budgets"),
    Rule("rollout.autoscaling-target", "the HPA scales out before CPU passes the budget's alert line",
         spec="Monitoring and Alerting / Production Thresholds"),
    Rule("rollout.pdb-present", "a PodDisruptionBudget covers workloads that can run two or more replicas",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
    Rule("rollout.pdb-allows-drain", "the PodDisruptionBudget always lets a node drain evict a pod",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
)


# An int-or-string field given as a string must be a whole percentage: the API server's IsValidPercent accepts only
# ^[0-9]+%$ for a Deployment's or DaemonSet's maxSurge/maxUnavailable and a PodDisruptionBudget's minAvailable and
# maxUnavailable, so "1" (a number quoted in YAML) is rejected, not read as one pod.
WHOLE_PERCENT = re.compile(r"^[0-9]+%$")


def scaled(value: Any, replicas: int, round_up: bool) -> int | None:
    """An int-or-percent rollout field resolved against a replica count, as Kubernetes does."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and WHOLE_PERCENT.match(value):
        amount = int(value[:-1]) * replicas / 100
        return math.ceil(amount) if round_up else math.floor(amount)
    return None  # any other string ("1", "1.5%") is refused by the API server


def replica_range(ctx: CheckContext, workload: Manifest) -> tuple[int, int, tuple[str, ...], str]:
    """(min, max) replicas, the values key that sets the minimum, and the field path."""
    hpa = owning_hpa(ctx.manifests, workload)
    if hpa:
        spec = mapping_at(hpa.doc, "spec")
        low = int(spec.get("minReplicas", 1))
        return low, int(spec.get("maxReplicas", low)), ("autoscaling", "minReplicas"), "spec.minReplicas"
    replicas = mapping_at(workload.doc, "spec").get("replicas", 1)
    return int(replicas), int(replicas), ("replicaCount",), "spec.replicas"


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A label selector as Kubernetes matches it: matchLabels and matchExpressions ANDed; an empty selector
    selects every pod (policy/v1), a missing one none."""
    if not isinstance(selector, dict):
        return False
    match = selector.get("matchLabels") or {}
    if not all(labels.get(k) == v for k, v in match.items()):
        return False
    return all(_requirement_met(r, labels) for r in selector.get("matchExpressions") or [])


def _requirement_met(requirement: Any, labels: dict[str, str]) -> bool:
    if not isinstance(requirement, dict):
        return False
    key, operator = requirement.get("key"), requirement.get("operator")
    values = requirement.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def check(ctx: CheckContext) -> Iterator[Finding]:
    for workload in service_workloads(ctx.manifests):
        spec = mapping_at(workload.doc, "spec")
        if workload.kind == "DaemonSet":
            yield from _daemonset_strategy(ctx, workload, spec)
            continue  # one pod per node: no replica count to keep, nothing for an HPA or a PDB minimum
        low, high, min_key, min_field = replica_range(ctx, workload)
        if workload.kind == "Deployment":
            yield from _strategy(ctx, workload, spec, max(low, 1))
        elif workload.kind == "StatefulSet":
            yield from _statefulset_strategy(ctx, workload, spec)
        wanted = int(ctx.env_budget["minReplicas"])
        hpa = owning_hpa(ctx.manifests, workload)
        if low < wanted:
            yield ctx.fail("rollout.min-replicas", hpa or workload, min_field,
                           f"{ctx.environment} needs at least {wanted} replicas", expected=f">= {wanted}",
                           actual=str(low), values_key=min_key)
        if hpa:
            yield from _replicas_beside_hpa(ctx, workload, spec, wanted)
            yield from _autoscaling_target(ctx, hpa)
        if high >= 2:
            yield from _disruption_budget(ctx, workload, low)


def _replicas_beside_hpa(ctx: CheckContext, workload: Manifest, spec: dict[str, Any], wanted: int
                         ) -> Iterator[Finding]:
    """spec.replicas kept beside an HPA: every apply scales the workload to it before the HPA scales back
    (kubernetes.io, "Migrating Deployments and StatefulSets to horizontal autoscaling")."""
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < wanted:
        yield ctx.fail("rollout.min-replicas", workload, "spec.replicas",
                       f"spec.replicas {replicas} beside an HPA: every apply scales the workload down to it before "
                       "the HPA scales back; leave replicas out (the HPA owns the count)",
                       expected=f"unset or >= {wanted}", actual=str(replicas), values_key=("replicaCount",))


def _strategy(ctx: CheckContext, workload: Manifest, spec: dict[str, Any], replicas: int) -> Iterator[Finding]:
    if spec.get("paused") is True:
        # While paused, template changes start no rollout (like a StatefulSet's OnDelete).
        yield ctx.fail("rollout.strategy", workload, "spec.paused", "a paused Deployment never rolls out: pods keep "
                       "the old spec until it is resumed", expected="false", actual="true")
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type", "RollingUpdate")
    if kind != "RollingUpdate":
        yield ctx.fail("rollout.strategy", workload, "spec.strategy.type",
                       f"strategy {kind} takes every pod down at once", expected="RollingUpdate", actual=kind)
        return
    rolling = strategy.get("rollingUpdate") or {}
    # Kubernetes defaults both to 25% when unset.
    unavailable_raw, surge_raw = rolling.get("maxUnavailable", "25%"), rolling.get("maxSurge", "25%")
    budget_unavailable = ctx.budget["rollout"]["maxUnavailable"]
    unavailable = scaled(unavailable_raw, replicas, round_up=False)
    if unavailable_raw not in (0, "0", "0%") or unavailable != budget_unavailable:
        yield ctx.fail("rollout.max-unavailable", workload, "spec.strategy.rollingUpdate.maxUnavailable",
                       "a rollout may take serving pods away", expected=str(budget_unavailable),
                       actual=str(unavailable_raw))
    surge = scaled(surge_raw, replicas, round_up=True)
    if surge is None or surge < 1:
        yield ctx.fail("rollout.max-surge", workload, "spec.strategy.rollingUpdate.maxSurge",
                       "with no surge pod the rollout cannot start a new pod first", expected=">= 1",
                       actual=str(surge_raw), values_key=("rollout", "maxSurge"))


def _update_strategy(spec: dict[str, Any]) -> dict[str, Any] | None:
    """A StatefulSet's or DaemonSet's rollingUpdate settings; None (after a finding) for OnDelete."""
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type", "RollingUpdate")  # both controllers default to RollingUpdate
    if kind != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {}


def _on_delete(ctx: CheckContext, workload: Manifest, spec: dict[str, Any]) -> Finding:
    kind = dig(spec, "updateStrategy.type")
    return ctx.fail("rollout.strategy", workload, "spec.updateStrategy.type",
                    f"updateStrategy {kind} never rolls out: pods keep the old spec until someone deletes them",
                    expected="RollingUpdate", actual=str(kind))


def _statefulset_strategy(ctx: CheckContext, workload: Manifest, spec: dict[str, Any]) -> Iterator[Finding]:
    rolling = _update_strategy(spec)
    if rolling is None:
        yield _on_delete(ctx, workload, spec)
        return
    partition = rolling.get("partition", 0)
    if isinstance(partition, int) and not isinstance(partition, bool) and partition > 0:
        yield ctx.fail("rollout.strategy", workload, "spec.updateStrategy.rollingUpdate.partition",
                       f"partition {partition} leaves the pods below ordinal {partition} on the old revision",
                       expected="0", actual=str(partition))
    raw = rolling.get("maxUnavailable", 1)  # Kubernetes' default; 0 is rejected by validation
    yield ctx.fail("rollout.max-unavailable", workload, "spec.updateStrategy.rollingUpdate.maxUnavailable",
                   "a StatefulSet cannot surge: its rolling update stops each pod before starting the replacement, "
                   "so it can never keep maxUnavailable 0 (use a Deployment for zero-downtime rollouts)",
                   expected="0 (needs a surge pod, which a StatefulSet cannot create)", actual=str(raw))


def _daemonset_strategy(ctx: CheckContext, workload: Manifest, spec: dict[str, Any]) -> Iterator[Finding]:
    rolling = _update_strategy(spec)
    if rolling is None:
        yield _on_delete(ctx, workload, spec)
        return
    # Defaults: maxUnavailable 1, maxSurge 0. Percentages are of the node count and round up, so any non-zero
    # percentage is at least one pod on a cluster with a node.
    budget_unavailable = ctx.budget["rollout"]["maxUnavailable"]
    unavailable_raw, surge_raw = rolling.get("maxUnavailable", 1), rolling.get("maxSurge", 0)
    unavailable = 0 if unavailable_raw in (0, "0", "0%") else scaled(unavailable_raw, 1, round_up=True)
    if unavailable is None or unavailable > budget_unavailable:
        yield ctx.fail("rollout.max-unavailable", workload, "spec.updateStrategy.rollingUpdate.maxUnavailable",
                       "a DaemonSet rollout may stop a node's pod before its replacement is ready",
                       expected=str(budget_unavailable), actual=str(unavailable_raw))
    if surge_raw in (0, "0", "0%") or scaled(surge_raw, 1, round_up=True) is None:
        yield ctx.fail("rollout.max-surge", workload, "spec.updateStrategy.rollingUpdate.maxSurge",
                       "with no surge pod a DaemonSet rollout cannot start the new pod first", expected=">= 1",
                       actual=str(surge_raw))


# autoscaling/v1's targetCPUUtilizationPercentage, and v2 without metrics, default to 80 % CPU.
DEFAULT_CPU_UTILIZATION = 80


def _autoscaling_target(ctx: CheckContext, hpa: Manifest) -> Iterator[Finding]:
    line = ctx.budget["alerts"]["cpuOfRequestsPercent"]
    spec = mapping_at(hpa.doc, "spec")
    key = ("autoscaling", "targetCPUUtilizationPercentage")
    if str(hpa.doc.get("apiVersion")) == "autoscaling/v1":
        target = spec.get("targetCPUUtilizationPercentage", DEFAULT_CPU_UTILIZATION)
        if not isinstance(target, int) or target > line:
            shown = target if "targetCPUUtilizationPercentage" in spec else f"{target} (the default)"
            yield ctx.fail("rollout.autoscaling-target", hpa, "spec.targetCPUUtilizationPercentage",
                           f"the HPA waits until {shown}% CPU, past the {line}% alert line", expected=f"<= {line}",
                           actual=str(shown), values_key=key)
        return
    for index, metric in enumerate(dig(hpa.doc, "spec.metrics") or []):
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        if resource.get("name") == "cpu" and "averageUtilization" in target:
            actual = target["averageUtilization"]
            if actual > line:
                yield ctx.fail("rollout.autoscaling-target", hpa,
                               f"spec.metrics[{index}].resource.target.averageUtilization",
                               f"the HPA waits until {actual}% CPU, past the {line}% alert line",
                               expected=f"<= {line}", actual=str(actual), values_key=key)
            return
    yield ctx.fail("rollout.autoscaling-target", hpa, "spec.metrics", "the HPA has no CPU utilization target",
                   expected=f"cpu averageUtilization <= {line}", actual="none", values_key=key)


def _disruption_budget(ctx: CheckContext, workload: Manifest, low: int) -> Iterator[Finding]:
    labels = pod_labels(workload)
    pdbs = [p for p in ctx.manifests.of_kind("PodDisruptionBudget") if selects(dig(p.doc, "spec.selector"), labels)]
    if not pdbs:
        yield ctx.fail("rollout.pdb-present", workload, "PodDisruptionBudget",
                       "no PodDisruptionBudget selects these pods", expected="present", actual="missing",
                       values_key=("podDisruptionBudget", "enabled"))
        return
    for pdb in pdbs:
        spec = mapping_at(pdb.doc, "spec")
        if "maxUnavailable" in spec:
            allowed = scaled(spec["maxUnavailable"], low, round_up=True)
            field, raw = "spec.maxUnavailable", spec["maxUnavailable"]
        else:
            min_available = scaled(spec.get("minAvailable", 1), low, round_up=True)
            allowed = None if min_available is None else low - min_available
            field, raw = "spec.minAvailable", spec.get("minAvailable")
        if isinstance(raw, str) and not WHOLE_PERCENT.match(raw):
            yield ctx.fail("rollout.pdb-allows-drain", pdb, field,
                           f"the API server rejects {raw!r}: a string here must be a whole percentage such as '50%'",
                           expected="an integer or a percentage such as '50%'", actual=repr(raw),
                           values_key=("podDisruptionBudget", "maxUnavailable"))
        elif allowed is None or allowed < 1:
            yield ctx.fail("rollout.pdb-allows-drain", pdb, field,
                           f"with {low} replica(s) this budget allows no eviction, so a node drain blocks",
                           expected="at least one pod may be evicted", actual=str(raw),
                           values_key=("podDisruptionBudget", "maxUnavailable"))
