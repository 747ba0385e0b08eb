"""Health probes: the service's contract paths on declared ports, budget intervals and thresholds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import APP, pod_containers, service_workloads
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

RULES = declare(
    Rule("probes.present", "liveness and readiness probes are defined",
         spec="Runtime Performance Targets / Health Endpoints"),
    Rule("probes.path", "liveness uses GET /healthz and readiness GET /healthz?readiness=1 (the budget's paths), over "
                        "HTTP to the pod itself (no other host or scheme)",
         spec="Runtime Performance Targets / Health Endpoints"),
    Rule("probes.port", "probes target a port the container declares",
         spec="Runtime Performance Targets / Health Endpoints"),
    Rule("probes.period", "liveness and readiness periodSeconds stay within the budget's probe interval",
         spec="Runtime Performance Targets / Health Endpoints"),
    Rule("probes.failure-threshold", "liveness and readiness give up after at most the budget's failures",
         spec="Runtime Performance Targets / Health Endpoints"),
    Rule("probes.distinct", "liveness and readiness differ, so a failing dependency does not restart pods",
         spec="Runtime Performance Targets / Health Endpoints"),
)
# Kubernetes' defaults for unset probe fields.
PROBE_DEFAULTS = {"periodSeconds": 10, "failureThreshold": 3, "initialDelaySeconds": 0, "successThreshold": 1,
                  "timeoutSeconds": 1}


def probe_value(probe: dict[str, Any], field: str) -> int:
    return int(probe.get(field, PROBE_DEFAULTS[field]))


def declared_ports(container: dict[str, Any]) -> set[object]:
    ports: set[object] = set()
    for port in container.get("ports") or []:
        ports.add(port.get("containerPort"))
        if port.get("name"):
            ports.add(port["name"])
    return ports


def check(ctx: CheckContext) -> Iterator[Finding]:
    # Every app container, not only the service's: the pod is Ready only when all of them are, and a container
    # without a probe counts as live and ready from the moment it starts (https://kubernetes.io/docs/concepts/
    # workloads/pods/pod-lifecycle/#container-probes), so a second app container without probes can hang unseen.
    # Init containers finish before the pod serves; native sidecars are not the service's containers.
    for workload in service_workloads(ctx.manifests):
        apps = [ref for ref in pod_containers(workload) if ref.kind == APP]
        for number, ref in enumerate(apps):
            yield from _container_probes(ctx, workload, ref.container, ref.path, service=number == 0)


def _container_probes(ctx: CheckContext, workload: Manifest, container: dict[str, Any], path: str,
                      service: bool) -> Iterator[Finding]:
    """The probe rules for one app container; the budget's health paths and the chart's probe values belong to the
    service container (the first, the one the chart renders); the others need probes of their own on their ports."""
    health = ctx.budget["health"]
    limits = health["probes"]
    name = container.get("name")
    probes = {kind: container.get(f"{kind}Probe") for kind in ("liveness", "readiness")}
    for kind, probe in probes.items():
        field = f"{path}.{kind}Probe"
        if not probe:
            yield ctx.fail("probes.present", workload, field, f"no {kind} probe", container=name, expected="defined",
                           actual="missing")
            continue
        http = probe.get("httpGet") or {}
        wanted = health[kind]["path"]
        if service and http.get("path") != wanted:
            yield ctx.fail("probes.path", workload, f"{field}.httpGet.path",
                           f"{kind} probe does not call the service's {kind} endpoint", container=name,
                           expected=f"httpGet {wanted}", actual=str(http.get("path", "no httpGet")))
        # Unset host is the pod's IP and unset scheme HTTP: anything else does not ask this pod's HTTP port.
        if http.get("host"):
            yield ctx.fail("probes.path", workload, f"{field}.httpGet.host", f"{kind} probe asks another host, not "
                           "this pod", container=name, expected="unset (the pod's IP)", actual=str(http["host"]))
        if service and http.get("scheme", "HTTP") != "HTTP":
            yield ctx.fail("probes.path", workload, f"{field}.httpGet.scheme",
                           f"{kind} probe uses {http.get('scheme')}; the service speaks HTTP", container=name,
                           expected="HTTP", actual=str(http.get("scheme")))
        ports = declared_ports(container)
        if http and http.get("port") not in ports:
            yield ctx.fail("probes.port", workload, f"{field}.httpGet.port",
                           f"{kind} probe targets a port the container does not declare", container=name,
                           expected=f"one of {sorted(map(str, ports))}", actual=str(http.get("port")))
        period = probe_value(probe, "periodSeconds")
        low, high = limits["periodSeconds"]["min"], limits["periodSeconds"]["max"]
        if not low <= period <= high:
            yield ctx.fail("probes.period", workload, f"{field}.periodSeconds",
                           f"{kind} probe interval {period}s is outside {low}-{high}s", container=name,
                           expected=f"{low}..{high}", actual=str(period),
                           values_key=("probes", kind, "periodSeconds") if service else None)
        threshold = probe_value(probe, "failureThreshold")
        if threshold > limits["maxFailureThreshold"]:
            yield ctx.fail("probes.failure-threshold", workload, f"{field}.failureThreshold",
                           f"{kind} probe tolerates {threshold} failures, more than {limits['maxFailureThreshold']}",
                           container=name, expected=f"<= {limits['maxFailureThreshold']}", actual=str(threshold),
                           values_key=("probes", kind, "failureThreshold") if service else None)
    if probes["liveness"] and probes["liveness"] == probes["readiness"]:
        yield ctx.fail("probes.distinct", workload, f"{path}.livenessProbe",
                       "liveness and readiness probes are identical", container=name,
                       expected="differs from readinessProbe", actual="identical")
