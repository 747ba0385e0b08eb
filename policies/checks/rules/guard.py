"""Namespace guards: the LimitRange and ResourceQuota equal the budget and admit the chart's own pods.

Admission is judged as Kubernetes does it: LimitRange defaults fill what a
container leaves unset (a default limit falls back to `max`, a default request
to the default limit; a stated limit is copied to an unset request first), the
Container items apply to every app, init and sidecar container, the Pod items
and the quota to the pod's effective figures (app + sidecars, or the largest
init container with the sidecars started before it; pod-level `resources`
when set). A quota's `cpu` and `memory` are its `requests.cpu` and
`requests.memory`. Quota sizing is in policies/checks/guardsizing.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.guardsizing import (
    QUOTA_KEYS,
    ExtraPod,
    Key,
    QuotaPlan,
    RolloutShape,
    ServicePods,
    limit_request_ratio,
)
from policies.checks.rules._pods import EPHEMERAL, containers, owning_hpa
from policies.checks.rules.probes import probe_value
from policies.checks.rules.rollout import scaled
from policies.core.docpath import dig, key_step, mapping_at
from policies.core.findings import Finding
from policies.core.quantity import FORMATTERS, QuantityError, parse_resource
from policies.core.ruleclass import BUDGET, SAFETY
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import Budget
from policies.render.manifests import Manifest, ManifestIndex

ADMISSION = "Kubernetes LimitRange and ResourceQuota admission (the budget enforced in the namespace)"
# The guards carrying the budget follow the phase like every budget rule; a guard that would refuse the
# chart's own pods breaks the install in any phase, so those two are safety rules.
RULES = declare(
    Rule("guard.present", "where the budget asks for admission guards (admissionGuards) the release renders a "
                          "LimitRange and a ResourceQuota, and nowhere else", control=ADMISSION, rule_class=BUDGET),
    Rule("guard.equals-budget", "the LimitRange's max, defaults and ratio and the ResourceQuota's size equal the "
                                "environment's budget", control=ADMISSION, rule_class=BUDGET),
    Rule("guard.limitrange-admits", "the LimitRange admits every container and pod the chart renders",
         control=ADMISSION, rule_class=SAFETY),
    Rule("guard.quota-admits", "the ResourceQuota admits a full rollout at maximum scale plus the helm test pod",
         control=ADMISSION, rule_class=SAFETY),
)
QUOTA_ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory"}
SIZED_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob", "Pod")


# -- reading the rendered objects ------------------------------------------------------------------------------


def _amount(resource: str, raw: Any) -> Decimal | None:
    if raw is None:
        return None
    try:
        return parse_resource(resource, raw)
    except QuantityError:
        return None  # reported by resources.quantity


def _figures(block: Any) -> dict[str, Decimal]:
    """A ResourceList (cpu and memory only) in base units."""
    block = block if isinstance(block, dict) else {}
    parsed = {resource: _amount(resource, block.get(resource)) for resource in ("cpu", "memory")}
    return {resource: amount for resource, amount in parsed.items() if amount is not None}


def _ratios(block: Any) -> dict[str, Decimal]:
    """maxLimitRequestRatio: plain numbers for either resource (`8`, `16667m`), never bytes."""
    block = block if isinstance(block, dict) else {}
    parsed = {resource: _amount("cpu", block.get(resource)) for resource in ("cpu", "memory")}
    return {resource: amount for resource, amount in parsed.items() if amount is not None}


def limit_items(manifests: ManifestIndex, kind: str) -> list[tuple[Manifest, int, dict[str, Any]]]:
    """Every LimitRange item of a type (Container or Pod), with its object and index."""
    found = []
    for limit_range in manifests.of_kind("LimitRange"):
        for index, item in enumerate(dig(limit_range.doc, "spec.limits") or []):
            if isinstance(item, dict) and item.get("type") == kind:
                found.append((limit_range, index, item))
    return found


def container_defaults(manifests: ManifestIndex) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(default limits, default requests) the LimitRanger gives a container, after the API's LimitRange defaulting."""
    limits: dict[str, Decimal] = {}
    requests: dict[str, Decimal] = {}
    for _, _, item in limit_items(manifests, "Container"):
        item_limits = {**_figures(item.get("max")), **_figures(item.get("default"))}
        item_requests = {**_figures(item.get("min")), **item_limits, **_figures(item.get("defaultRequest"))}
        limits = {**item_limits, **limits}
        requests = {**item_requests, **requests}
    return limits, requests


def admitted_container(container: dict[str, Any], defaults: tuple[dict[str, Decimal], dict[str, Decimal]]
                       ) -> dict[Key, Decimal | None]:
    """A container's requests and limits as admission sees them: stated, else copied from the limit, else defaulted."""
    spec = container.get("resources") if isinstance(container.get("resources"), dict) else {}
    stated_limits = spec.get("limits") if isinstance(spec.get("limits"), dict) else {}
    stated_requests = spec.get("requests") if isinstance(spec.get("requests"), dict) else {}
    default_limits, default_requests = defaults
    figures: dict[Key, Decimal | None] = {}
    for resource in ("cpu", "memory"):
        limit = _amount(resource, stated_limits.get(resource))
        request = _amount(resource, stated_requests.get(resource))
        if request is None and limit is not None:
            request = limit
        figures[("limits", resource)] = limit if limit is not None else default_limits.get(resource)
        figures[("requests", resource)] = request if request is not None else default_requests.get(resource)
    return figures


def _sum(values: list[Decimal | None]) -> Decimal | None:
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


def _larger(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The larger of two figures; an unset limit counts as unbounded, an unset request as nothing."""
    if a is None or b is None:
        return None
    return max(a, b)


def admitted_pod(pod: dict[str, Any], defaults: tuple[dict[str, Decimal], dict[str, Decimal]]
                 ) -> dict[Key, Decimal | None]:
    """A pod's effective requests and limits (what the Pod items and the quota judge)."""
    inits = [c for c in pod.get("initContainers") or [] if isinstance(c, dict)]
    apps = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
    pod_level = pod.get("resources") if isinstance(pod.get("resources"), dict) else {}
    figures: dict[Key, Decimal | None] = {}
    for kind, resource in QUOTA_KEYS:
        key = (kind, resource)
        stated = _figures(pod_level.get(kind)).get(resource)
        if stated is not None:
            figures[key] = stated
            continue
        sidecars: list[Decimal | None] = []
        init_peak: Decimal | None = Decimal(0)
        for container in inits:
            amount = admitted_container(container, defaults)[key]
            if kind == "requests" and amount is None:
                amount = Decimal(0)
            if container.get("restartPolicy") == "Always":
                sidecars.append(amount)
            else:
                init_peak = _larger(init_peak, _sum([*sidecars, amount]))
        running = [admitted_container(c, defaults)[key] for c in apps]
        if kind == "requests":
            running = [Decimal(0) if a is None else a for a in running]
        figures[key] = _larger(_sum([*sidecars, *running]), init_peak)
    return figures


def _hpa_max(manifests: ManifestIndex, workload: Manifest) -> int | None:
    hpa = owning_hpa(manifests, workload)
    return None if hpa is None else int(mapping_at(hpa.doc, "spec").get("maxReplicas", 1))


def rollout_shape(manifests: ManifestIndex, workload: Manifest) -> RolloutShape | None:
    """The workload's rollout at maximum scale; None for a DaemonSet (its pods follow the nodes)."""
    if workload.kind not in SIZED_KINDS:
        return None
    spec = workload.doc.get("spec") or {}
    pod = workload.pod_spec() or {}
    grace = int(pod.get("terminationGracePeriodSeconds", 30))  # Kubernetes' default
    if workload.kind in ("Job", "CronJob", "Pod"):
        job = mapping_at(spec, "jobTemplate.spec") if workload.kind == "CronJob" else spec
        count = 1 if workload.kind == "Pod" else int(job.get("parallelism", 1))
        return RolloutShape(workload.ref, count, 0, grace, 0, replaces_while_terminating=False)
    replicas = _hpa_max(manifests, workload)
    replicas = int(spec.get("replicas", 1)) if replicas is None else replicas
    strategy = spec.get("strategy") or {}
    if workload.kind == "StatefulSet" or strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return RolloutShape(workload.ref, replicas, 0, grace, 0, replaces_while_terminating=False)
    surge = scaled(mapping_at(strategy, "rollingUpdate").get("maxSurge", "25%"), replicas, round_up=True) or 0
    delay = max((max(probe_value(c.get("startupProbe") or {}, "initialDelaySeconds"),
                     probe_value(c.get("readinessProbe") or {}, "initialDelaySeconds"))
                 for c in pod.get("containers") or [] if isinstance(c, dict)), default=0)
    step = int(spec.get("minReadySeconds", 0)) + int(delay)
    return RolloutShape(workload.ref, replicas, surge, grace, step)


def _service_and_hooks(manifests: ManifestIndex) -> tuple[list[Manifest], list[Manifest]]:
    workloads = manifests.workloads(include_hooks=True)
    return [m for m in workloads if not m.is_completion_hook], [m for m in workloads if m.is_completion_hook]


def quota_plan(manifests: ManifestIndex, budget_per_pod: dict[Key, Decimal] | None = None) -> QuotaPlan:
    """The pods a quota must admit: service pods at `budget_per_pod` (else as rendered), hook pods as rendered.

    Every hook pod (the helm test pod) counts once, at its rendered resources after LimitRange defaults.
    Workloads that cannot be sized (DaemonSets) are left out; the rules report them.
    """
    defaults = container_defaults(manifests)
    service, hooks = _service_and_hooks(manifests)
    services = []
    for workload in service:
        shape = rollout_shape(manifests, workload)
        if shape is not None:
            per_pod = dict(budget_per_pod) if budget_per_pod else admitted_pod(workload.pod_spec() or {}, defaults)
            services.append(ServicePods(shape, per_pod))
    extras = [ExtraPod(hook.ref, admitted_pod(hook.pod_spec() or {}, defaults)) for hook in hooks]
    return QuotaPlan(tuple(services), tuple(extras))


def budget_per_pod(budget: Budget, environment: str) -> dict[Key, Decimal]:
    return {key: budget.resource_budget(environment, *key) for key in QUOTA_KEYS}


def budget_quota_plan(manifests: ManifestIndex, budget: Budget, environment: str) -> QuotaPlan:
    """The quota the budget asks for: every service pod at the environment's per-pod budget."""
    return quota_plan(manifests, budget_per_pod(budget, environment))


def quota_hard(quota: Manifest) -> dict[str, tuple[str, Decimal | None]]:
    """spec.hard by canonical key (aliases resolved): the key as written and its amount."""
    hard = mapping_at(quota.doc, "spec.hard")
    found: dict[str, tuple[str, Decimal | None]] = {}
    for written, raw in hard.items():
        key = QUOTA_ALIASES.get(written, written)
        if key == "pods":
            amount = _amount("cpu", raw)
        elif key in {f"{k}.{r}" for k, r in QUOTA_KEYS}:
            amount = _amount(key.split(".")[1], raw)
        else:
            continue
        previous = found.get(key)
        # Both `cpu` and `requests.cpu` set: each is enforced, so the smaller one binds.
        if previous is None or (amount is not None and previous[1] is not None and amount < previous[1]):
            found[key] = (written, amount)
    return found


def _pod_resources_field(workload: Manifest, field: str) -> str:
    """Where a pod's figure is written: its pod-level resources (which Kubernetes then uses), else its containers."""
    pod_level = (workload.pod_spec() or {}).get("resources")
    kind, resource = field.split(".", 1)
    written = isinstance(pod_level, dict) and isinstance(pod_level.get(kind), dict) and \
        pod_level[kind].get(resource) is not None
    return f"{workload.pod_spec_path()}.{'' if written else 'containers[*].'}resources.{field}"


def _hard_field(written: str) -> str:
    """The field path of a quota key: `requests.cpu` is one key of spec.hard, not spec.hard.requests.cpu."""
    return f"spec.hard{key_step(written)}"


def _quota_inputs(key: str) -> tuple[tuple[str, ...], ...]:
    """The values a quota figure is made of: the per-pod guard figure, then the helm test pod's own.

    `pods` follows the rollout's shape (several keys in several places), so it keeps the budgetGuard hint.
    """
    if key == "pods":
        return ()
    kind, resource = key.split(".")
    return ("budgetGuard", kind, resource), ("budgetTest", "resources", kind, resource)


def _show(key: str, amount: Decimal | None) -> str:
    if amount is None:
        return "unset"
    if key == "pods":
        return f"{amount.normalize():f}"
    return FORMATTERS[key.split(".")[-1]](amount)


# -- the rules ---------------------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> Iterator[Finding]:
    yield from _present(ctx)
    yield from _limit_range_equals_budget(ctx)
    yield from _limit_range_admits(ctx)
    yield from _quota(ctx)


def _present(ctx: CheckContext) -> Iterator[Finding]:
    wanted = bool(ctx.env_budget.get("admissionGuards"))
    for kind in ("LimitRange", "ResourceQuota"):
        found = ctx.manifests.of_kind(kind)
        if wanted and not found:
            yield ctx.fail("guard.present", None, None,
                           f"the {ctx.environment} budget asks for admission guards; the render has no {kind}",
                           resource=kind, expected="present", actual="missing", values_key=("budgetGuard", "enabled"))
        elif not wanted:
            for manifest in found:
                yield ctx.fail("guard.present", manifest, None, f"the {ctx.environment} budget has no admission guards "
                               f"(admissionGuards), yet the render has {manifest.ref}", expected="absent",
                               actual="present", values_key=("budgetGuard", "enabled"))


def implied_ratios(budget: Budget, environment: str) -> dict[str, Decimal]:
    """The pod maxLimitRequestRatio the budget implies: limit / (floor x request) where falling below the
    requests floor is a failure; none where it is only a warning (such requests are allowed)."""
    percent, severity = budget.requests_floor(environment)
    if severity != "failure" or percent <= 0:
        return {}
    per_pod = budget_per_pod(budget, environment)
    return {resource: limit_request_ratio(per_pod[("requests", resource)] * percent / 100,
                                          per_pod[("limits", resource)]) for resource in ("cpu", "memory")}


def _ratio_text(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def _limit_range_equals_budget(ctx: CheckContext) -> Iterator[Finding]:
    budget = budget_per_pod(ctx.budget, ctx.environment)
    limits = {resource: budget[("limits", resource)] for resource in ("cpu", "memory")}
    requests = {resource: budget[("requests", resource)] for resource in ("cpu", "memory")}
    wanted = {
        "Container": {"max": (limits, "limits"), "default": (limits, "limits"),
                      "defaultRequest": (requests, "requests")},
        "Pod": {"max": (limits, "limits"), "maxLimitRequestRatio": (implied_ratios(ctx.budget, ctx.environment),
                                                                    "requestsFloorPercent")},
    }
    for limit_range in ctx.manifests.of_kind("LimitRange"):
        for kind, fields in wanted.items():
            items = [(i, item) for lr, i, item in limit_items(ctx.manifests, kind) if lr is limit_range]
            if not items:
                yield ctx.fail("guard.equals-budget", limit_range, "spec.limits",
                               f"{limit_range.ref} has no {kind} item carrying the budget", expected=f"a {kind} item",
                               actual="none")
                continue
            index, item = items[0]
            for field, (expected, values_field) in fields.items():
                stated = (_ratios if field == "maxLimitRequestRatio" else _figures)(item.get(field))
                for resource in ("cpu", "memory"):
                    amount, actual = expected.get(resource), stated.get(resource)
                    if actual == amount:
                        continue
                    ratio = field == "maxLimitRequestRatio"
                    show = _ratio_text if ratio else FORMATTERS[resource]
                    yield ctx.fail(
                        "guard.equals-budget", limit_range, f"spec.limits[{index}].{field}.{resource}",
                        f"{kind} {field} {resource} differs from the {ctx.environment} budget"
                        + (" (limit / (requests floor x request), only where the floor fails)" if ratio else ""),
                        expected="unset" if amount is None else show(amount),
                        actual="unset" if actual is None else show(actual),
                        values_key=("budgetGuard", values_field) if ratio else ("budgetGuard", values_field, resource))


def _limit_range_admits(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.manifests.of_kind("LimitRange"):
        return
    defaults = container_defaults(ctx.manifests)
    for ref in containers(ctx.manifests, include_hooks=True):
        if ref.kind == EPHEMERAL:
            continue  # never in a template (pod.ephemeral-containers) and never given resources
        figures = admitted_container(ref.container, defaults)
        values_key = None if ref.manifest.is_completion_hook else "resources"
        for limit_range, _, item in limit_items(ctx.manifests, "Container"):
            for field, message, expected, actual in _item_problems(item, figures):
                yield ctx.fail("guard.limitrange-admits", ref.manifest, f"{ref.path}.resources.{field}",
                               f"{limit_range.ref} refuses container {ref.name}: {message}", container=ref.name,
                               expected=expected, actual=actual,
                               values_key=(values_key, *field.split(".")) if values_key else None)
    for workload in ctx.manifests.workloads(include_hooks=True):
        figures = admitted_pod(workload.pod_spec() or {}, defaults)
        for limit_range, _, item in limit_items(ctx.manifests, "Pod"):
            for field, message, expected, actual in _item_problems(item, figures):
                yield ctx.fail("guard.limitrange-admits", workload, _pod_resources_field(workload, field),
                               f"{limit_range.ref} refuses the pod: {message}", expected=expected, actual=actual,
                               values_key=None if workload.is_completion_hook else ("resources", *field.split(".")))


def _item_problems(item: dict[str, Any], figures: dict[Key, Decimal | None]
                   ) -> Iterator[tuple[str, str, str, str]]:
    """(field, message, expected, actual) for each constraint of a LimitRange item the figures break."""
    for resource, most in _figures(item.get("max")).items():
        fmt = FORMATTERS[resource]
        for kind in ("limits", "requests"):
            amount = figures[(kind, resource)]
            if amount is None:
                yield (f"{kind}.{resource}", f"{resource} max is {fmt(most)} and no {kind[:-1]} is set",
                       f"<= {fmt(most)}", "unset")
            elif amount > most:
                yield (f"{kind}.{resource}", f"{kind}.{resource} {fmt(amount)} is over the max {fmt(most)}",
                       f"<= {fmt(most)}", fmt(amount))
    for resource, least in _figures(item.get("min")).items():
        fmt = FORMATTERS[resource]
        amount = figures[("requests", resource)]
        if amount is None or amount < least:
            yield (f"requests.{resource}", f"requests.{resource} is under the min {fmt(least)}",
                   f">= {fmt(least)}", "unset" if amount is None else fmt(amount))
    for resource, ratio in _ratios(item.get("maxLimitRequestRatio")).items():
        request, limit = figures[("requests", resource)], figures[("limits", resource)]
        if not request or not limit:
            yield (f"limits.{resource}", f"{resource} limit/request ratio needs both set and non-zero",
                   f"<= {ratio.normalize():f}", "unset")
        elif limit / request > ratio:
            observed = (limit / request).quantize(Decimal("0.001")).normalize()
            yield (f"limits.{resource}",
                   f"{resource} limit/request {observed:f} is over the maxLimitRequestRatio {ratio.normalize():f}",
                   f"<= {ratio.normalize():f}", f"{observed:f}")


def _quota(ctx: CheckContext) -> Iterator[Finding]:
    quotas = ctx.manifests.of_kind("ResourceQuota")
    if not quotas:
        return
    service, _ = _service_and_hooks(ctx.manifests)
    unsized = [workload for workload in service if rollout_shape(ctx.manifests, workload) is None]
    for workload in unsized:
        # Not provable either way from the render: a warning, so the report says WARN, never PASS.
        yield ctx.warn("guard.quota-admits", workload, None, f"the pods of {workload.ref} follow the node count, "
                       "which the render does not know; whether the quota admits them cannot be judged",
                       expected="a workload with a replica count", actual=workload.kind)
    need = quota_plan(ctx.manifests)
    owed = budget_quota_plan(ctx.manifests, ctx.budget, ctx.environment)
    for quota in quotas:
        hard = quota_hard(quota)
        spec = quota.doc.get("spec") or {}
        for scoped in ("scopes", "scopeSelector"):
            if spec.get(scoped):
                yield ctx.fail("guard.equals-budget", quota, f"spec.{scoped}",
                               f"{quota.ref} is scoped, so it does not guard every pod", expected="unset",
                               actual=str(spec[scoped]))
        for key, amount in need.hard().items():
            written, limit = hard.get(key, (key, None))
            if key not in hard:
                continue  # an unconstrained resource admits anything
            if amount is None:
                yield ctx.fail("guard.quota-admits", quota, _hard_field(written), f"{quota.ref} constrains "
                               f"{written}, and a counted pod states none, so the quota refuses it",
                               expected="set on every pod", actual="unset", values_key=("resources",))
            elif limit is None or limit < amount:
                yield ctx.fail("guard.quota-admits", quota, _hard_field(written),
                               f"{quota.ref} {written} {_show(key, limit)} does not admit the worst moment, which "
                               f"needs {_show(key, amount)} = {need.formula(key)}",
                               expected=f">= {_show(key, amount)}", actual=_show(key, limit),
                               values_keys=_quota_inputs(key), values_key=("budgetGuard",))
        # With pods nobody can count, there is no size the budget gives: the warning above says so.
        for key, amount in ({} if unsized else owed.hard()).items():
            written, actual = hard.get(key, (key, None))
            if actual != amount:
                yield ctx.fail("guard.equals-budget", quota, _hard_field(written),
                               f"{quota.ref} {written} differs from the {ctx.environment} budget for this rollout: "
                               f"{owed.formula(key)}", expected=_show(key, amount), actual=_show(key, actual),
                               values_keys=_quota_inputs(key), values_key=("budgetGuard",))
