"""The /metrics endpoint is a development-only feature: no port, scrape config or flag elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import container_env, containers, switched_on
from policies.core.docpath import dig
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

RULES = declare(
    Rule("metrics.environments", "the metrics port, ServiceMonitor and PF_METRICS_ENABLED appear only where the "
                                 "budget allows metrics",
         spec="Runtime Performance Targets / Metrics Endpoint (Development Only)"),
)
METRICS_FLAG = "PF_METRICS_ENABLED"
METRICS_PORT_NAME = "metrics"


def check(ctx: CheckContext) -> Iterator[Finding]:
    allowed = ctx.budget["metrics"]["environments"]
    if ctx.environment in allowed:
        return
    expected = f"absent (metrics only in {', '.join(allowed)})"
    key = ("metrics", "enabled")
    for ref in containers(ctx.manifests):
        for index, port in enumerate(ref.container.get("ports") or []):
            if port.get("name") == METRICS_PORT_NAME:
                yield ctx.fail("metrics.environments", ref.manifest, f"{ref.path}.ports[{index}]",
                               "the container exposes a metrics port", container=ref.name, expected=expected,
                               actual=str(port.get("containerPort")), values_key=key)
        flag = container_env(ctx.manifests, ref.container).get(METRICS_FLAG, "")
        if switched_on(flag):
            # Point at where the flag is written: the container's env, or the ConfigMap it reads (the chart's).
            written_in, field = _flag_source(ctx, ref.container, ref.path)
            yield ctx.fail("metrics.environments", written_in or ref.manifest, field, f"{METRICS_FLAG} is on",
                           container=ref.name, expected=expected, actual=f"{METRICS_FLAG}={flag}", values_key=key)
    for service in ctx.manifests.of_kind("Service"):
        for index, port in enumerate(dig(service.doc, "spec.ports") or []):
            if port.get("name") == METRICS_PORT_NAME:
                yield ctx.fail("metrics.environments", service, f"spec.ports[{index}]",
                               "the Service publishes a metrics port", expected=expected, actual=str(port.get("port")),
                               values_key=key)
    for monitor in ctx.manifests.of_kind("ServiceMonitor"):
        yield ctx.fail("metrics.environments", monitor, "kind", "a ServiceMonitor scrapes this environment",
                       expected=expected, actual="ServiceMonitor", values_key=key)


def _flag_source(ctx: CheckContext, container: dict[str, Any], path: str) -> tuple[Manifest | None, str]:
    """(resource, field) where the container's PF_METRICS_ENABLED is written: its own `env` entry (the last
    wins, as in Kubernetes; resource None: the container's own object), else the ConfigMap an envFrom reads it
    from (a later envFrom wins)."""
    for index, item in reversed(list(enumerate(container.get("env") or []))):
        if item.get("name") == METRICS_FLAG and "value" in item:
            return None, f"{path}.env[{index}].value"
    config_maps = {m.name: m for m in ctx.manifests.of_kind("ConfigMap")}
    for source in reversed(container.get("envFrom") or []):
        config_map = config_maps.get((source.get("configMapRef") or {}).get("name"))
        prefix = source.get("prefix", "")
        key = METRICS_FLAG[len(prefix):] if METRICS_FLAG.startswith(prefix) else None
        if config_map and key and dig(config_map.doc, ("data", key)) is not None:
            return config_map, f"data.{key}"
    return None, f"{path}.env"
