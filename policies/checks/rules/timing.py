"""Startup, rollout and shutdown timing derived from probe and lifecycle settings.

Kubernetes does not time a rollout for us, but its settings bound the times:
each rule below states its formula. Unset probe fields take Kubernetes'
defaults. T_boot is the budget's boot target for the features switched on
(baseline when only PF_ORCH_ENABLED is on, enhanced otherwise).

The probe rules read every container whose probes count (every app container and
every native sidecar, probed_containers); traffic-switch reads every app container.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import (
    APP,
    SIDECAR,
    ContainerRef,
    container_env,
    enabled_flags,
    pod_containers,
    service_workloads,
)
from policies.checks.rules.probes import probe_value
from policies.core.docpath import dig, mapping_at
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

BASELINE_FLAG = "PF_ORCH_ENABLED"
# The values key that switches each feature flag on: the flags on choose T_boot.
FEATURE_VALUES = {"PF_ORCH_ENABLED": "orchestrator", "PF_OBSERVABILITY_ENABLED": "observability",
                  "PF_DB_STUB_ENABLED": "databaseStub", "PF_ORCH_ENHANCED_ENABLED": "enhancedOrchestrator"}
RULES = declare(
    # earliest_ready = max(startup.initialDelaySeconds, readiness.initialDelaySeconds) <= T_boot
    Rule("timing.boot-detection", "probes can report Ready as soon as the service meets its boot target",
         spec="Application Startup Targets / Container Boot Time"),
    # kill_after = startup.initialDelaySeconds + startup.periodSeconds * startup.failureThreshold
    #   (liveness instead when there is no startup probe) >= regression.readinessAlertSeconds
    Rule("timing.no-premature-kill", "startup/liveness never kill a pod still inside the readiness alert line",
         spec="Monitoring and Alerting / Performance Regression Detection"),
    # ready_worst = T_boot + startup.periodSeconds + readiness.periodSeconds * readiness.successThreshold
    #   + minReadySeconds <= rollout.podReplacementSeconds
    Rule("timing.pod-replacement", "a replacement pod can be Ready (and available) within the replacement budget",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
    # unready_after = readiness.periodSeconds * readiness.failureThreshold
    #   <= rollout.healthCheckStabilizationSeconds
    Rule("timing.stabilization", "an unhealthy pod leaves the endpoints within the stabilization budget",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
    # preStop sleep >= rollout.trafficSwitchSeconds and
    # terminationGracePeriodSeconds >= preStop sleep + rollout.trafficSwitchSeconds
    Rule("timing.traffic-switch", "shutdown waits for endpoints to drain, and leaves time to finish requests",
         spec="Deployment Pipeline SLAs / Rollout Performance"),
)


def boot_target(ctx: CheckContext, env: dict[str, str]) -> tuple[float, str]:
    features = ctx.budget["startup"]["features"]
    flags = enabled_flags(env)
    if flags and set(flags) <= {BASELINE_FLAG}:
        return float(features["baselineBootSeconds"]), "baseline features"
    return float(min(features["enhancedBootSeconds"], ctx.budget["startup"]["readySeconds"])), "enhanced features"


def pre_stop_sleep(container: dict[str, Any]) -> float:
    handler = mapping_at(container, "lifecycle.preStop")
    if "sleep" in handler:
        return float(handler["sleep"].get("seconds", 0))
    command = dig(handler, "exec.command") or []
    # A shell running one sleep (`sh -c "sleep 5"`) waits just as long.
    if len(command) == 3 and command[0] in ("sh", "/bin/sh") and command[1] == "-c" and isinstance(command[2], str):
        command = command[2].split()
    if len(command) == 2 and command[0] in ("sleep", "/bin/sleep"):
        try:
            return float(command[1])
        except ValueError:
            return 0.0
    return 0.0


def probed_containers(workload: Manifest) -> list[ContainerRef]:
    """The containers whose probes count, in start order: every app container and every native sidecar.

    The pod is Ready only when all its containers are, and a sidecar's readiness probe counts like an app
    container's; a startup or liveness probe kills whichever container it belongs to. Ordinary init containers
    run to completion and take no probes; ephemeral ones have none and are never in a template.
      https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-probes (types of probe)
      https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-readiness-status (all containers ready)
      https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/ (a sidecar's readinessProbe decides
        the pod's ready state; sidecars, unlike init containers, support probes)
    """
    return [ref for ref in pod_containers(workload) if ref.kind in (APP, SIDECAR)]


@dataclass(frozen=True)
class Probed:
    """One container as the timing rules read it. Only the service's container (the first app container, the one
    the chart renders from its values) names values keys; another container's probes are in its own template."""

    ref: ContainerRef
    service: bool

    def probe(self, kind: str) -> dict[str, Any]:
        return self.ref.container.get(f"{kind}Probe") or {}

    @property
    def name(self) -> str | None:
        return self.ref.container.get("name")

    def keys(self, *keys: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return keys if self.service else ()


def check(ctx: CheckContext) -> Iterator[Finding]:
    for workload in service_workloads(ctx.manifests):
        refs = probed_containers(workload)
        apps = [ref for ref in refs if ref.kind == APP]
        if not apps:
            continue
        probed = [Probed(ref, ref is apps[0]) for ref in refs]
        # T_boot is the service's: the feature flags its container sees.
        env = container_env(ctx.manifests, apps[0].container)
        t_boot, boot_kind = boot_target(ctx, env)
        feature_keys = tuple(("features", FEATURE_VALUES[f]) for f in enabled_flags(env) if f in FEATURE_VALUES)
        # Rule by rule, each over every container: findings keep the order they had with one container.
        for each in probed:
            yield from _boot_detection(ctx, workload, each, t_boot, boot_kind, feature_keys)
        for each in probed:
            yield from _no_premature_kill(ctx, workload, each)
        yield from _pod_replacement(ctx, workload, probed, t_boot, feature_keys)
        for each in probed:
            yield from _stabilization(ctx, workload, each)
        yield from _traffic_switch(ctx, workload, [each for each in probed if each.ref.kind == APP])


def _boot_detection(ctx: CheckContext, workload: Manifest, each: Probed, t_boot: float, boot_kind: str,
                    feature_keys: tuple[tuple[str, ...], ...]) -> Iterator[Finding]:
    # A container without probes is ready (default Success) as soon as it runs: nothing holds it back.
    startup, readiness = each.probe("startup"), each.probe("readiness")
    startup_delay = probe_value(startup, "initialDelaySeconds") if startup else 0
    readiness_delay = probe_value(readiness, "initialDelaySeconds")
    earliest = max(startup_delay, readiness_delay)
    if earliest > t_boot:
        deciding = "startupProbe" if startup_delay > readiness_delay else "readinessProbe"
        yield ctx.fail("timing.boot-detection", workload, f"{each.ref.path}.{deciding}.initialDelaySeconds",
                       f"probes cannot report Ready before {earliest}s; boot target ({boot_kind}) is {t_boot:g}s",
                       container=each.name, expected=f"<= {t_boot:g}s", actual=f"{earliest}s",
                       values_keys=each.keys(("probes", "startup", "initialDelaySeconds"),
                                             ("probes", "readiness", "initialDelaySeconds"), *feature_keys))


def _no_premature_kill(ctx: CheckContext, workload: Manifest, each: Probed) -> Iterator[Finding]:
    # Without a startup or liveness probe nothing kills a booting container.
    startup, liveness = each.probe("startup"), each.probe("liveness")
    killer, killer_name = (startup, "startup") if startup else (liveness, "liveness")
    if not killer:
        return
    kill_after = probe_value(killer, "initialDelaySeconds") + \
        probe_value(killer, "periodSeconds") * probe_value(killer, "failureThreshold")
    alert = ctx.budget["regression"]["readinessAlertSeconds"]
    if kill_after < alert:
        yield ctx.fail("timing.no-premature-kill", workload, f"{each.ref.path}.{killer_name}Probe",
                       f"the {killer_name} probe kills a booting pod after {kill_after}s, "
                       f"before the {alert}s readiness alert line",
                       container=each.name, expected=f">= {alert}s", actual=f"{kill_after}s",
                       values_keys=each.keys(*(("probes", killer_name, key) for key in
                                               ("initialDelaySeconds", "periodSeconds", "failureThreshold"))))


def _pod_replacement(ctx: CheckContext, workload: Manifest, probed: list[Probed], t_boot: float,
                     feature_keys: tuple[tuple[str, ...], ...]) -> Iterator[Finding]:
    """One finding per pod: the pod is available when its slowest container is Ready (then minReadySeconds)."""
    budget = ctx.budget["rollout"]["podReplacementSeconds"]
    min_ready = int(mapping_at(workload.doc, "spec").get("minReadySeconds", 0))

    def ready_worst(each: Probed) -> float:
        startup, readiness = each.probe("startup"), each.probe("readiness")
        # Another container without a readiness probe is ready once started (default Success): no cadence to
        # wait for. The service's container keeps its defaults (probes.present asks it for a readiness probe).
        cadence = probe_value(readiness, "periodSeconds") * probe_value(readiness, "successThreshold") \
            if readiness or each.service else 0
        return t_boot + (probe_value(startup, "periodSeconds") if startup else 0) + cadence + min_ready

    # The slowest container decides; on a tie the service's container is named.
    worst, each = max(((ready_worst(each), each) for each in probed), key=lambda item: (item[0], item[1].service))
    if worst > budget:
        startup = each.probe("startup")
        yield ctx.fail("timing.pod-replacement", workload, f"{each.ref.path}.readinessProbe.periodSeconds",
                       f"a new pod may take {worst:g}s to become available "
                       f"(boot {t_boot:g}s + probe cadence + minReadySeconds {min_ready}s)",
                       container=each.name, expected=f"<= {budget}s", actual=f"{worst:g}s",
                       values_keys=each.keys(*feature_keys,
                                             *((("probes", "startup", "periodSeconds"),) if startup else ()),
                                             ("probes", "readiness", "periodSeconds"),
                                             ("probes", "readiness", "successThreshold"),
                                             ("rollout", "minReadySeconds")))


def _stabilization(ctx: CheckContext, workload: Manifest, each: Probed) -> Iterator[Finding]:
    # Without a readiness probe a container is never marked unready: nothing to time.
    readiness = each.probe("readiness")
    budget = ctx.budget["rollout"]["healthCheckStabilizationSeconds"]
    unready_after = probe_value(readiness, "periodSeconds") * probe_value(readiness, "failureThreshold")
    if readiness and unready_after > budget:
        yield ctx.fail("timing.stabilization", workload, f"{each.ref.path}.readinessProbe",
                       f"a failing pod keeps receiving traffic for up to {unready_after}s",
                       container=each.name, expected=f"<= {budget}s", actual=f"{unready_after}s",
                       values_keys=each.keys(("probes", "readiness", "periodSeconds"),
                                             ("probes", "readiness", "failureThreshold")))


def _traffic_switch(ctx: CheckContext, workload: Manifest, apps: list[Probed]) -> Iterator[Finding]:
    """Every app container sleeps before its SIGTERM; the pod's grace period covers the longest sleep.

    On deletion the kubelet runs each container's preStop hook, then sends TERM to each container, while the
    endpoints are removed at the same time: an app container without the sleep is stopped at once, still sent
    traffic. Sidecars get TERM only after the last app container has stopped, so they need no sleep.
      https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination-flow
      https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#termination-with-sidecars
    """
    switch = ctx.budget["rollout"]["trafficSwitchSeconds"]
    sleeps = [(pre_stop_sleep(each.ref.container), each) for each in apps]
    short = [(sleep, each) for sleep, each in sleeps if sleep < switch]
    for sleep, each in short:
        yield ctx.fail("timing.traffic-switch", workload, f"{each.ref.path}.lifecycle.preStop",
                       f"the pod stops {sleep:g}s after removal; endpoints need {switch}s to switch traffic",
                       container=each.name, expected=f"sleep >= {switch}s", actual=f"{sleep:g}s",
                       values_keys=each.keys(("preStopSleepSeconds",)))
    if short:
        return
    sleep, each = max(sleeps, key=lambda item: item[0])  # the first of equals: the service's container
    grace = int((workload.pod_spec() or {}).get("terminationGracePeriodSeconds", 30))  # Kubernetes default
    if grace < sleep + switch:
        yield ctx.fail("timing.traffic-switch", workload, f"{workload.pod_spec_path()}.terminationGracePeriodSeconds",
                       f"terminationGracePeriodSeconds {grace}s leaves under {switch}s after the preStop sleep",
                       container=each.name, expected=f">= {sleep + switch:g}s", actual=f"{grace}s",
                       values_keys=(("terminationGracePeriodSeconds",), *each.keys(("preStopSleepSeconds",))))
