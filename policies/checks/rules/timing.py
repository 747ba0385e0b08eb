"""Startup, rollout and shutdown timing derived from probe and lifecycle settings.

Kubernetes does not time a rollout for us, but its settings bound the times:
each rule below states its formula. Unset probe fields take Kubernetes'
defaults. T_boot is the budget's boot target for the features switched on
(baseline when only PF_ORCH_ENABLED is on, enhanced otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import container_env, enabled_flags, main_container, service_workloads
from policies.checks.rules.probes import probe_value
from policies.core.docpath import dig, mapping_at
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare

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


def check(ctx: CheckContext) -> Iterator[Finding]:
    rollout = ctx.budget["rollout"]
    for workload in service_workloads(ctx.manifests):
        found = main_container(workload)
        if not found:
            continue
        container, path = found
        name = container.get("name")
        startup = container.get("startupProbe") or {}
        liveness = container.get("livenessProbe") or {}
        readiness = container.get("readinessProbe") or {}
        env = container_env(ctx.manifests, container)
        t_boot, boot_kind = boot_target(ctx, env)
        feature_keys = tuple(("features", FEATURE_VALUES[f]) for f in enabled_flags(env) if f in FEATURE_VALUES)

        earliest = max(probe_value(startup, "initialDelaySeconds") if startup else 0,
                       probe_value(readiness, "initialDelaySeconds"))
        if earliest > t_boot:
            yield ctx.fail("timing.boot-detection", workload, f"{path}.readinessProbe.initialDelaySeconds",
                           f"probes cannot report Ready before {earliest}s; boot target ({boot_kind}) is {t_boot:g}s",
                           container=name, expected=f"<= {t_boot:g}s", actual=f"{earliest}s",
                           values_keys=(("probes", "startup", "initialDelaySeconds"),
                                        ("probes", "readiness", "initialDelaySeconds"), *feature_keys))

        killer, killer_name = (startup, "startup") if startup else (liveness, "liveness")
        if killer:
            kill_after = probe_value(killer, "initialDelaySeconds") + \
                probe_value(killer, "periodSeconds") * probe_value(killer, "failureThreshold")
            alert = ctx.budget["regression"]["readinessAlertSeconds"]
            if kill_after < alert:
                yield ctx.fail("timing.no-premature-kill", workload, f"{path}.{killer_name}Probe",
                               f"the {killer_name} probe kills a booting pod after {kill_after}s, "
                               f"before the {alert}s readiness alert line",
                               container=name, expected=f">= {alert}s", actual=f"{kill_after}s",
                               values_keys=tuple(("probes", killer_name, key) for key in
                                                 ("initialDelaySeconds", "periodSeconds", "failureThreshold")))

        min_ready = int(mapping_at(workload.doc, "spec").get("minReadySeconds", 0))
        ready_worst = t_boot + (probe_value(startup, "periodSeconds") if startup else 0) + \
            probe_value(readiness, "periodSeconds") * probe_value(readiness, "successThreshold") + min_ready
        if ready_worst > rollout["podReplacementSeconds"]:
            yield ctx.fail("timing.pod-replacement", workload, f"{path}.readinessProbe.periodSeconds",
                           f"a new pod may take {ready_worst:g}s to become available "
                           f"(boot {t_boot:g}s + probe cadence + minReadySeconds {min_ready}s)",
                           container=name, expected=f"<= {rollout['podReplacementSeconds']}s",
                           actual=f"{ready_worst:g}s",
                           values_keys=(*feature_keys, *((("probes", "startup", "periodSeconds"),) if startup else ()),
                                        ("probes", "readiness", "periodSeconds"),
                                        ("probes", "readiness", "successThreshold"), ("rollout", "minReadySeconds")))

        unready_after = probe_value(readiness, "periodSeconds") * probe_value(readiness, "failureThreshold")
        if readiness and unready_after > rollout["healthCheckStabilizationSeconds"]:
            yield ctx.fail("timing.stabilization", workload, f"{path}.readinessProbe",
                           f"a failing pod keeps receiving traffic for up to {unready_after}s", container=name,
                           expected=f"<= {rollout['healthCheckStabilizationSeconds']}s", actual=f"{unready_after}s",
                           values_keys=(("probes", "readiness", "periodSeconds"),
                                        ("probes", "readiness", "failureThreshold")))

        switch = rollout["trafficSwitchSeconds"]
        sleep = pre_stop_sleep(container)
        grace = int((workload.pod_spec() or {}).get("terminationGracePeriodSeconds", 30))  # Kubernetes default
        if sleep < switch:
            yield ctx.fail("timing.traffic-switch", workload, f"{path}.lifecycle.preStop",
                           f"the pod stops {sleep:g}s after removal; endpoints need {switch}s to switch traffic",
                           container=name, expected=f"sleep >= {switch}s", actual=f"{sleep:g}s",
                           values_keys=(("preStopSleepSeconds",),))
        elif grace < sleep + switch:
            yield ctx.fail("timing.traffic-switch", workload,
                           f"{workload.pod_spec_path()}.terminationGracePeriodSeconds",
                           f"terminationGracePeriodSeconds {grace}s leaves under {switch}s after the preStop sleep",
                           container=name, expected=f">= {sleep + switch:g}s", actual=f"{grace}s",
                           values_keys=(("terminationGracePeriodSeconds",), ("preStopSleepSeconds",)))
