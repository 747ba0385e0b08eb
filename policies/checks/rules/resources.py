"""Resource budgets: every container sized, and each pod's effective requests and limits (as the scheduler
computes them: init and sidecar containers, pod overhead) within the environment's budget and above its floor."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from policies.checks.context import CheckContext
from policies.checks.rules._pods import (
    APP,
    EPHEMERAL,
    ContainerRef,
    EffectiveFigure,
    Term,
    budgeted_workloads,
    containers,
    declared_overhead,
    effective_resources,
    pod_containers,
)
from policies.core.docpath import dig
from policies.core.findings import Finding
from policies.core.quantity import FORMATTERS, QuantityError, parse_resource
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import KINDS, RESOURCES
from policies.render.manifests import Manifest

RULES = declare(
    Rule("resources.set", "every app, init and sidecar container sets cpu and memory requests and limits",
         spec="Kubernetes Resource Budgets"),
    Rule("resources.quantity", "every request and limit is a valid Kubernetes quantity of its resource",
         spec="Kubernetes Resource Budgets"),
    Rule("resources.within-budget", "each pod's effective requests and limits (app + sidecars, or an init container "
                                    "+ the sidecars before it, whichever is larger, plus pod overhead) stay within "
                                    "the environment's budget", spec="Kubernetes Resource Budgets"),
    Rule("resources.under-budget", "each pod's effective requests reach the environment's floor (requestsFloor, a "
                                   "share of the budget)",
         control="policies/budget.yaml requestsFloor (not in the spec: a floor as well as a ceiling)"),
    Rule("resources.requests-within-limits", "no request exceeds its limit", spec="Kubernetes Resource Budgets"),
    Rule("resources.runtime-class", "a pod's RuntimeClass has a known overhead (a RuntimeClass in the render or the "
                                    "budget's runtimeClassOverhead)", spec="Kubernetes Resource Budgets"),
)


def _values_key(ref: ContainerRef, kind: str, resource: str) -> tuple[str, ...] | None:
    """The chart's resources.* values size the service container only; other containers are fixed in templates."""
    if ref.manifest.is_completion_hook or ref.kind != APP or not ref.path.endswith("containers[0]"):
        return None
    return ("resources", kind, resource)


def check(ctx: CheckContext) -> Iterator[Finding]:
    for ref in containers(ctx.manifests, include_hooks=True):
        if ref.kind != EPHEMERAL:  # an ephemeral container has no resources (and fails its own rule)
            yield from _container_checks(ctx, ref)
    for manifest in budgeted_workloads(ctx.manifests):
        yield from _pod_checks(ctx, manifest)


def _container_checks(ctx: CheckContext, ref: ContainerRef) -> Iterator[Finding]:
    spec = ref.container.get("resources") or {}
    parsed: dict[tuple[str, str], Decimal] = {}
    for kind in KINDS:
        for resource in RESOURCES:
            field = f"{ref.path}.resources.{kind}.{resource}"
            raw = dig(spec, (kind, resource))
            key = _values_key(ref, kind, resource)
            if raw is None:
                yield ctx.fail("resources.set", ref.manifest, field,
                               f"{kind}.{resource} of {ref.kind} container {ref.name} is not set", container=ref.name,
                               expected="set", actual="missing", values_key=key)
                continue
            try:
                parsed[(kind, resource)] = parse_resource(resource, raw)
            except QuantityError as exc:
                yield ctx.fail("resources.quantity", ref.manifest, field, str(exc), container=ref.name,
                               expected=f"a {resource} quantity", actual=str(raw), values_key=key)
    for resource in RESOURCES:
        request, limit = parsed.get(("requests", resource)), parsed.get(("limits", resource))
        if request is not None and limit is not None and request > limit:
            yield ctx.fail("resources.requests-within-limits", ref.manifest,
                           f"{ref.path}.resources.requests.{resource}", f"{resource} request is above its limit",
                           container=ref.name,
                           expected=f"<= {FORMATTERS[resource](limit)}", actual=FORMATTERS[resource](request),
                           values_key=_values_key(ref, "requests", resource))


def pod_figures(ctx: CheckContext, manifest: Manifest) -> dict[tuple[str, str], EffectiveFigure] | None:
    """A workload's effective pod figures; None when its RuntimeClass overhead is unknown."""
    overhead = declared_overhead(manifest.pod_spec() or {}, ctx.manifests,
                                 ctx.budget.runtime_class_overheads(ctx.environment))
    if overhead is None:
        return None
    figures = effective_resources(pod_containers(manifest), overhead)
    # Pod-level resources (spec.resources, beta and on by default from Kubernetes 1.34, inside the chart's
    # kubeVersion range) are the pod's own figure wherever one is written; the overhead still adds to it.
    for (kind, resource), amount in _pod_level(manifest).items():
        extra = overhead.get(resource, Decimal(0))
        head = (Term("pod overhead", extra),) if extra else ()
        figures[(kind, resource)] = EffectiveFigure(kind, resource, amount + extra, "running",
                                                    (*head, Term(POD_LEVEL, amount)))
    return figures


POD_LEVEL = "pod-level resources"


def _pod_level(manifest: Manifest) -> dict[tuple[str, str], Decimal]:
    """The pod-level requests and limits written in the pod spec (an unreadable amount: schema's to report)."""
    written = (manifest.pod_spec() or {}).get("resources")
    figures: dict[tuple[str, str], Decimal] = {}
    for kind in KINDS:
        amounts = written.get(kind) if isinstance(written, dict) else None
        for resource in RESOURCES:
            if isinstance(amounts, dict) and amounts.get(resource) is not None:
                try:
                    figures[(kind, resource)] = parse_resource(resource, amounts[resource])
                except QuantityError:
                    continue
    return figures


def _pod_field(manifest: Manifest, kind: str, resource: str) -> str:
    """Where a pod's effective figure is set: its pod-level resources when written, else its containers."""
    if (kind, resource) in _pod_level(manifest):
        return f"{manifest.pod_spec_path()}.resources.{kind}.{resource}"
    return f"{manifest.pod_spec_path()}.containers[*].resources.{kind}.{resource}"


def _pod_checks(ctx: CheckContext, manifest: Manifest) -> Iterator[Finding]:
    figures = pod_figures(ctx, manifest)
    if figures is None:
        name = dig(manifest.pod_spec(), "runtimeClassName")
        yield ctx.fail("resources.runtime-class", manifest, f"{manifest.pod_spec_path()}.runtimeClassName",
                       f"RuntimeClass {name} adds a pod overhead this check cannot know: render the RuntimeClass "
                       f"or declare it in the budget's {ctx.environment}.runtimeClassOverhead",
                       expected="a RuntimeClass with a known overhead", actual=str(name))
        return
    for (kind, resource), figure in sorted(figures.items()):
        allowed = ctx.budget.resource_budget(ctx.environment, kind, resource)
        if figure.amount is not None and figure.amount > allowed:
            yield _over_budget(ctx, manifest, figure, allowed)
    yield from _under_floor(ctx, manifest, figures)


def _over_budget(ctx: CheckContext, manifest: Manifest, figure: EffectiveFigure, allowed: Decimal) -> Finding:
    kind, resource, fmt = figure.kind, figure.resource, FORMATTERS[figure.resource]
    budget_text = ctx.budget.resource_text(ctx.environment, kind, resource)
    amount = figure.amount if figure.amount is not None else Decimal(0)
    message = (f"effective {kind}.{resource} {fmt(amount)} exceeds the {ctx.environment} budget of {budget_text} "
               f"by {fmt(amount - allowed)}")
    if figure.phase != "running":
        message += f" while {figure.phase} runs"
    field = _pod_field(manifest, kind, resource)
    container: str | None = None
    key: tuple[str, ...] | None = ("resources", kind, resource)
    if (kind, resource) in _pod_level(manifest):
        key = None  # the chart renders no pod-level resources: no values key sets them, the template is the place
    culprit = figure.pushed_over(allowed)
    if culprit:
        term, before = culprit
        message += f"; {term.label} ({fmt(term.amount or Decimal(0))}) takes the pod from {fmt(before)} over it"
        if term.ref is not None:
            container, field = term.ref.name, f"{term.ref.path}.resources.{kind}.{resource}"
            key = _values_key(term.ref, kind, resource)
    return ctx.fail("resources.within-budget", manifest, field, message, container=container,
                    expected=f"<= {budget_text}", actual=fmt(amount), values_key=key)


def _under_floor(ctx: CheckContext, manifest: Manifest, figures: dict[tuple[str, str], EffectiveFigure]
                 ) -> Iterator[Finding]:
    percent, severity = ctx.budget.requests_floor(ctx.environment)
    report = ctx.fail if severity == "failure" else ctx.warn  # the budget sets how far under is a failure
    for resource in RESOURCES:
        figure = figures[("requests", resource)]
        floor = ctx.budget.resource_budget(ctx.environment, "requests", resource) * percent / 100
        if figure.amount is not None and figure.amount < floor:
            fmt = FORMATTERS[resource]
            budget_text = ctx.budget.resource_text(ctx.environment, "requests", resource)
            yield report("resources.under-budget", manifest, _pod_field(manifest, "requests", resource),
                         f"effective requests.{resource} {fmt(figure.amount)} is below {percent:g}% of the "
                         f"{ctx.environment} budget of {budget_text}: the pods are sized for a smaller environment",
                         expected=f">= {fmt(floor)}", actual=fmt(figure.amount),
                         values_key=("resources", "requests", resource))


def _shown(figure: EffectiveFigure) -> str:
    return "unbounded" if figure.amount is None else FORMATTERS[figure.resource](figure.amount)


def _use_status(amount: Decimal | None, allowed: Decimal | None) -> str | None:
    """over, at (exactly the budget) or within; unbounded (None) is over; None when the budget sets no figure."""
    if not allowed:
        return None
    if amount is None or amount > allowed:
        return "over"
    return "at" if amount == allowed else "within"


def usage(ctx: CheckContext) -> list[dict[str, object]]:
    """Each workload's effective requests/limits against the budget, for the report's budget table."""
    rows: list[dict[str, object]] = []
    for manifest in budgeted_workloads(ctx.manifests):
        figures = pod_figures(ctx, manifest)
        if figures is None:
            continue
        for kind in KINDS:
            for resource in RESOURCES:
                figure = figures[(kind, resource)]
                allowed = ctx.budget.resource_budget(ctx.environment, kind, resource)
                rows.append({
                    "environment": ctx.environment, "resource": manifest.ref, "kind": kind,
                    "name": resource, "actual": _shown(figure),
                    "budget": ctx.budget.resource_text(ctx.environment, kind, resource),
                    "percent": (round(float(figure.amount / allowed * 100), 1)
                                if allowed and figure.amount is not None else None),
                    # Exact, not from the rounded percent: 100.04 % rounds to 100.0 but is over.
                    "status": _use_status(figure.amount, allowed),
                })
    return rows
