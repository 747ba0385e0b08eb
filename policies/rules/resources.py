"""Resource budgets: requests and limits set, within the environment's budget, requests <= limits."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from policies.budget import KINDS, RESOURCES
from policies.context import CheckContext
from policies.findings import Finding, failure
from policies.quantity import FORMATTERS, QuantityError, parse_resource
from policies.rules._pods import containers, service_workloads

RULES = {
    "resources.set": "every container sets cpu and memory requests and limits",
    "resources.quantity": "every request and limit is a valid Kubernetes quantity of its resource",
    "resources.within-budget": "the pod's summed requests and limits stay within the environment's budget",
    "resources.requests-within-limits": "no request exceeds its limit",
}


def _values_key(kind: str, resource: str) -> tuple[str, ...]:
    return ("resources", kind, resource)


def check(ctx: CheckContext) -> Iterator[Finding]:
    totals: dict[str, dict[tuple[str, str], Decimal]] = {}
    for ref in containers(ctx.manifests, include_hooks=True):
        spec = ref.container.get("resources") or {}
        parsed: dict[tuple[str, str], Decimal] = {}
        common = dict(environment=ctx.environment, resource=ref.manifest.ref, container=ref.name,
                      source=ref.manifest.source)
        for kind in KINDS:
            for resource in RESOURCES:
                field = f"{ref.path}.resources.{kind}.{resource}"
                raw = (spec.get(kind) or {}).get(resource)
                key = _values_key(kind, resource) if not ref.manifest.is_hook else None
                if raw is None:
                    yield failure("resources.set", f"{kind}.{resource} is not set", field=field,
                                  expected="set", actual="missing", values_key=key, **common)
                    continue
                try:
                    parsed[(kind, resource)] = parse_resource(resource, raw)
                except QuantityError as exc:
                    yield failure("resources.quantity", str(exc), field=field, expected=f"a {resource} quantity",
                                  actual=str(raw), values_key=key, **common)
        for resource in RESOURCES:
            request, limit = parsed.get(("requests", resource)), parsed.get(("limits", resource))
            if request is not None and limit is not None and request > limit:
                yield failure(
                    "resources.requests-within-limits", f"{resource} request is above its limit",
                    field=f"{ref.path}.resources.requests.{resource}",
                    expected=f"<= {FORMATTERS[resource](limit)}", actual=FORMATTERS[resource](request),
                    values_key=_values_key("requests", resource), **common)
        if not ref.manifest.is_hook and not ref.init:
            pod_totals = totals.setdefault(ref.manifest.ref, {})
            for key, amount in parsed.items():
                pod_totals[key] = pod_totals.get(key, Decimal(0)) + amount

    for manifest in service_workloads(ctx.manifests):
        pod_totals = totals.get(manifest.ref, {})
        for (kind, resource), amount in sorted(pod_totals.items()):
            allowed = ctx.budget.resource_budget(ctx.environment, kind, resource)
            if amount > allowed:
                fmt = FORMATTERS[resource]
                yield failure(
                    "resources.within-budget",
                    f"{kind}.{resource} {fmt(amount)} exceeds the {ctx.environment} budget of "
                    f"{ctx.budget.resource_text(ctx.environment, kind, resource)}",
                    environment=ctx.environment, resource=manifest.ref,
                    field=f"{manifest.pod_spec_path()}.containers[*].resources.{kind}.{resource}",
                    expected=f"<= {ctx.budget.resource_text(ctx.environment, kind, resource)}",
                    actual=fmt(amount), values_key=_values_key(kind, resource), source=manifest.source)


def usage(ctx: CheckContext) -> list[dict[str, object]]:
    """Each workload's summed requests/limits against the budget, for the report's budget table."""
    rows: list[dict[str, object]] = []
    for manifest in service_workloads(ctx.manifests):
        pod = manifest.pod_spec() or {}
        for kind in KINDS:
            for resource in RESOURCES:
                total = Decimal(0)
                try:
                    for container in pod.get("containers") or []:
                        raw = ((container.get("resources") or {}).get(kind) or {}).get(resource)
                        total += parse_resource(resource, raw) if raw is not None else 0
                except QuantityError:
                    continue
                allowed = ctx.budget.resource_budget(ctx.environment, kind, resource)
                rows.append({
                    "environment": ctx.environment, "resource": manifest.ref, "kind": kind,
                    "name": resource, "actual": FORMATTERS[resource](total),
                    "budget": ctx.budget.resource_text(ctx.environment, kind, resource),
                    "percent": round(float(total / allowed * 100), 1) if allowed else None,
                })
    return rows
