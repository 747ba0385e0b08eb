"""How many pods a namespace guard must admit: the ResourceQuota arithmetic, as pure functions.

The worst legitimate moment is a rollout at maximum scale:

  pods = maxReplicas + maxSurge + terminating (+ the helm test pod)

A pod still counts against quota while it terminates, until its grace period
has passed, and the Deployment controller does not count terminating pods
against maxSurge: it replaces the next maxSurge pods as soon as the new ones
are available. One replacement step takes at least

  step = minReadySeconds + the probes' initial delay

(a new pod is Ready no sooner than its first probe, and available
minReadySeconds later), so one grace period overlaps at most

  terminating = min(maxReplicas, maxSurge * (floor(grace / step) + 1))

old pods (with no floor on the step, every old pod). The budget's 30 s
replacement time is an upper bound and would undercount: faster steps leave
more pods terminating at once.

The chart's template (_budgetguard.tpl) renders the same arithmetic; the guard
rules recompute it here from the rendered objects, and docs/budget.md prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from policies.core.quantity import FORMATTERS
from policies.inputs.budget import KINDS, RESOURCES

Key = tuple[str, str]  # (requests|limits, cpu|memory)
QUOTA_KEYS: tuple[Key, ...] = tuple((kind, resource) for kind in KINDS for resource in RESOURCES)


def terminating_pods(replicas: int, surge: int, grace_seconds: int, step_seconds: int) -> int:
    """Old pods a rollout can leave terminating (still counted by quota) at one moment."""
    if step_seconds <= 0:
        return replicas
    return min(replicas, surge * (grace_seconds // step_seconds + 1))


@dataclass(frozen=True)
class RolloutShape:
    """One workload's rollout at maximum scale, as its rendered objects set it."""

    workload: str  # Kind/name
    replicas: int  # maximum scale: the HPA's maxReplicas, else spec.replicas
    surge: int  # maxSurge resolved against `replicas` (0 when the strategy replaces in place)
    grace_seconds: int
    step_seconds: int  # the floor of one replacement step
    replaces_while_terminating: bool = True  # False for Recreate and StatefulSets: they wait for old pods

    @property
    def terminating(self) -> int:
        if not self.replaces_while_terminating:
            return 0
        return terminating_pods(self.replicas, self.surge, self.grace_seconds, self.step_seconds)

    @property
    def pods(self) -> int:
        return self.replicas + self.surge + self.terminating

    def explain(self) -> str:
        if not self.replaces_while_terminating:
            return f"{self.workload}: {self.replicas} replicas + {self.surge} surge = {self.pods} pods"
        if self.step_seconds <= 0:
            overlap = "no floor on a replacement step, so every old pod may be terminating"
        else:
            steps = self.grace_seconds // self.step_seconds + 1
            overlap = (f"a replacement step takes at least {self.step_seconds} s, so the {self.grace_seconds} s "
                       f"grace period overlaps floor({self.grace_seconds} / {self.step_seconds}) + 1 = {steps} "
                       f"steps of {self.surge} pod(s), at most the {self.replicas} old pods")
        return (f"{self.workload}: {self.replicas} maxReplicas + {self.surge} maxSurge + {self.terminating} "
                f"terminating = {self.pods} pods ({overlap})")


@dataclass(frozen=True)
class ExtraPod:
    """A pod counted once at its own effective resources (a helm test pod)."""

    workload: str
    resources: dict[Key, Decimal | None]


@dataclass(frozen=True)
class ServicePods:
    """A workload's pods at the worst moment, each counted at `per_pod` (the budget, or the rendered pod)."""

    shape: RolloutShape
    per_pod: dict[Key, Decimal | None]  # None: the pod states no such figure (a quota on it refuses the pod)


@dataclass(frozen=True)
class QuotaPlan:
    services: tuple[ServicePods, ...]
    extras: tuple[ExtraPod, ...]

    @property
    def pods(self) -> int:
        return sum(s.shape.pods for s in self.services) + len(self.extras)

    def amount(self, key: Key) -> Decimal | None:
        """The figure the quota must admit; None when some counted pod states none."""
        figures = [(s.per_pod.get(key), s.shape.pods) for s in self.services]
        figures += [(extra.resources.get(key), 1) for extra in self.extras]
        if any(amount is None for amount, _ in figures):
            return None
        return sum((amount * count for amount, count in figures if amount is not None), Decimal(0))

    def hard(self) -> dict[str, Decimal | None]:
        """The ResourceQuota's spec.hard, in base units (pods, cores, bytes)."""
        return {"pods": Decimal(self.pods), **{f"{kind}.{resource}": self.amount((kind, resource))
                                               for kind, resource in QUOTA_KEYS}}

    def formula(self, key: str) -> str:
        """How one spec.hard figure is made up, e.g. `13 x 250m + 25m` or `6 maxReplicas + 1 maxSurge + ...`."""
        if key == "pods":
            terms = [f"{s.shape.replicas} maxReplicas + {s.shape.surge} maxSurge + {s.shape.terminating} "
                     f"terminating ({s.shape.workload})" for s in self.services]
            terms += [f"1 ({extra.workload})" for extra in self.extras]
        else:
            kind, resource = key.split(".")
            terms = [f"{s.shape.pods} x {_text(resource, s.per_pod.get((kind, resource)))}" for s in self.services]
            terms += [_text(resource, extra.resources.get((kind, resource))) for extra in self.extras]
        return " + ".join(terms) or "0"

    def explain(self) -> list[str]:
        """The arithmetic, one line per figure."""
        lines = [s.shape.explain() for s in self.services]
        lines += [f"{extra.workload}: 1 pod at its own resources" for extra in self.extras]
        counts = [str(s.shape.pods) for s in self.services] + ["1"] * len(self.extras)
        lines.append(f"pods = {' + '.join(counts) or '0'} = {self.pods}")
        for kind, resource in QUOTA_KEYS:
            key = (kind, resource)
            terms = [f"{s.shape.pods} x {_text(resource, s.per_pod.get(key))}" for s in self.services]
            terms += [_text(resource, extra.resources.get(key)) for extra in self.extras]
            lines.append(f"{kind}.{resource} = {' + '.join(terms) or '0'} = {_text(resource, self.amount(key))}")
        return lines


def _text(resource: str, amount: Decimal | None) -> str:
    return "unset" if amount is None else FORMATTERS[resource](amount)


def limit_request_ratio(request: Decimal, limit: Decimal) -> Decimal:
    """limit / request rounded up to a thousandth, the precision the LimitRanger compares ratios at."""
    thousandths = (limit * 1000 / request).to_integral_value(rounding="ROUND_CEILING")
    return thousandths / 1000
