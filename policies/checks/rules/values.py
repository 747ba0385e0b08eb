"""Values that do nothing: a key an environment file or overlay sets that has no effect under its settings.

Judged from the render already made, for a closed list of switches whose keys are otherwise silently ignored
(replicaCount under an HPA, autoscaling.* while it is off, ...). A warning at the file and line that set it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from policies.checks.context import CheckContext
from policies.core.docpath import dig
from policies.core.findings import Finding, Severity
from policies.core.ruledecl import Rule, declare
from policies.inputs.yamlsource import KeyPath, dotted

RULE = "values.no-effect"
RULES = declare(
    Rule(RULE, "an environment file or overlay sets no key that has no effect under that environment's settings "
               "(replicaCount under autoscaling, autoscaling.* while off, podDisruptionBudget.* with no PDB, "
               "metrics.port and metrics.serviceMonitor.* while metrics are off, monitoring.prometheusRule.* "
               "while the rule is off)",
         control="project: values files say only what takes effect", severity=Severity.WARNING),
)


@dataclass(frozen=True)
class Inert:
    """Keys under `prefix` (the key itself when `whole_key`) do nothing while `idle(ctx)` holds."""

    prefix: KeyPath
    idle: Callable[[CheckContext], bool]
    why: str
    whole_key: bool = False
    # The switch that turned the feature off is not itself a no-op when it says so.
    switch: str | None = "enabled"


def _rendered(kind: str) -> Callable[[CheckContext], bool]:
    return lambda ctx: bool(ctx.manifests.of_kind(kind))


def _metrics_off(ctx: CheckContext) -> bool:
    return not dig(ctx.values, "metrics.enabled")


INERT = (
    Inert(("replicaCount",), _rendered("HorizontalPodAutoscaler"),
          "the HorizontalPodAutoscaler owns the replica count (autoscaling.enabled)", whole_key=True),
    Inert(("autoscaling",), lambda ctx: not _rendered("HorizontalPodAutoscaler")(ctx), "autoscaling is off"),
    Inert(("podDisruptionBudget",), lambda ctx: not _rendered("PodDisruptionBudget")(ctx),
          "no PodDisruptionBudget is rendered (it needs podDisruptionBudget.enabled and more than one replica)"),
    Inert(("metrics", "port"), _metrics_off, "metrics are off (metrics.enabled)", whole_key=True),
    Inert(("metrics", "serviceMonitor"), _metrics_off, "metrics are off (metrics.enabled)", switch=None),
    Inert(("monitoring", "prometheusRule"), lambda ctx: not _rendered("PrometheusRule")(ctx),
          "the PrometheusRule is off (monitoring.prometheusRule.enabled)"),
)


def _value(data: Any, key: KeyPath) -> Any:
    for part in key:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _set_keys(ctx: CheckContext, inert: Inert) -> Iterator[KeyPath]:
    """Keys an environment file or overlay writes under the prefix, once each, in the order written."""
    seen: set[KeyPath] = set()
    for sourced in (ctx.layers.files[1:] if ctx.layers else ()):
        for key in sourced.lines:
            matches = key == inert.prefix if inert.whole_key else (
                len(key) == len(inert.prefix) + 1 and key[:len(inert.prefix)] == inert.prefix)
            if not matches or key in seen:
                continue
            if inert.switch and key[-1] == inert.switch and not _value(sourced.data, key):
                continue
            seen.add(key)
            yield key


def check(ctx: CheckContext) -> Iterator[Finding]:
    for inert in INERT:
        if not inert.idle(ctx):
            continue
        for key in _set_keys(ctx, inert):
            value = _value(ctx.values, key)
            yield ctx.warn(RULE, None, dotted(key), f"{dotted(key)} has no effect here: {inert.why}",
                           expected="unset (or switch the feature on)", actual=repr(value), values_key=key)
