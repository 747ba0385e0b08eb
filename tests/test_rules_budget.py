"""Budget policies (resources, rollout, probes, timing, metrics): each fails on a violation, passes when fixed.

Every case starts from the real render of an environment, which passes, and
changes one thing. The changed render is written to a file as `check --manifests` reads it and the full
list of (rule, resource, field, file, line) compared, each line read back from the written file
(tests/rulekit.py: RuleCase).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rulekit import RuleCase, app_container, editable_docs, find_doc, finding_tuples, run_rule

from policies.checks.rules import metrics, probes, resources, rollout, timing

Docs = list[dict[str, Any]]
DEPLOYMENT = "Deployment/prompted-forge-mcp"
HPA, PDB = "HorizontalPodAutoscaler/prompted-forge-mcp", "PodDisruptionBudget/prompted-forge-mcp"
APP = "spec.template.spec.containers[0]"


def set_resource(kind: str, resource: str, value: str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        app_container(docs)["resources"][kind][resource] = value
    return mutate


def drop_resource(kind: str, resource: str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        del app_container(docs)["resources"][kind][resource]
    return mutate


def set_path(kind: str, path: str, value: Any) -> Callable[[Docs], None]:
    """Set a dotted path in the first non-hook object of a kind (`-` deletes)."""
    def mutate(docs: Docs) -> None:
        node = find_doc(docs, kind) if kind != "container" else app_container(docs)
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if value == "-":
            node.pop(last, None)
        else:
            node[last] = value
    return mutate


def remove_kind(kind: str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        docs[:] = [d for d in docs if d["kind"] != kind]
    return mutate


def add_metrics_port(docs: Docs) -> None:
    app_container(docs)["ports"].append({"name": "metrics", "containerPort": 9464, "protocol": "TCP"})


def enable_metrics_flag(docs: Docs) -> None:
    app_container(docs).setdefault("env", []).append({"name": "PF_METRICS_ENABLED", "value": "true"})


def enable_metrics_in_config_map(docs: Docs) -> None:
    """The chart's way: the flag is in the app's ConfigMap, which the container reads through envFrom."""
    app_name = find_doc(docs, "Deployment")["metadata"]["name"]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == app_name)
    config["data"]["PF_METRICS_ENABLED"] = "true"


def add_service_monitor(docs: Docs) -> None:
    docs.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                 "metadata": {"name": "prompted-forge-mcp"}, "spec": {}})


# (case id, rule family module, environment, mutation, every finding expected: (rule, resource, field))
VIOLATIONS = [
    ("memory-limit-over-budget", resources, "production", set_resource("limits", "memory", "1025Mi"),
     [("resources.within-budget", DEPLOYMENT, f"{APP}.resources.limits.memory")]),
    ("cpu-request-over-budget", resources, "development", set_resource("requests", "cpu", "51m"),
     [("resources.within-budget", DEPLOYMENT, f"{APP}.resources.requests.cpu")]),
    ("cpu-limit-as-cores-over-budget", resources, "staging", set_resource("limits", "cpu", "0.6"),
     [("resources.within-budget", DEPLOYMENT, f"{APP}.resources.limits.cpu")]),
    ("memory-request-missing", resources, "staging", drop_resource("requests", "memory"),
     [("resources.set", DEPLOYMENT, f"{APP}.resources.requests.memory"),
      ("resources.within-budget", DEPLOYMENT, f"{APP}.resources.requests.memory")]),
    ("cpu-limit-missing", resources, "production", drop_resource("limits", "cpu"),
     [("resources.set", DEPLOYMENT, f"{APP}.resources.limits.cpu")]),
    ("memory-in-gb-is-invalid", resources, "production", set_resource("limits", "memory", "1Gb"),
     [("resources.quantity", DEPLOYMENT, f"{APP}.resources.limits.memory")]),
    ("cpu-in-mebibytes-is-invalid", resources, "production", set_resource("requests", "cpu", "100Mi"),
     [("resources.quantity", DEPLOYMENT, f"{APP}.resources.requests.cpu"),
      ("resources.under-budget", DEPLOYMENT, "spec.template.spec.containers[*].resources.requests.cpu")]),
    ("request-above-limit", resources, "production", set_resource("limits", "memory", "128Mi"),
     [("resources.requests-within-limits", DEPLOYMENT, f"{APP}.resources.requests.memory")]),
    ("production-at-development-size", resources, "production", set_resource("requests", "cpu", "50m"),
     [("resources.under-budget", DEPLOYMENT, "spec.template.spec.containers[*].resources.requests.cpu")]),
    ("runtime-class-overhead-unknown", resources, "production",
     set_path("Deployment", "spec.template.spec.runtimeClassName", "gvisor"),
     [("resources.runtime-class", DEPLOYMENT, "spec.template.spec.runtimeClassName")]),
    ("recreate-strategy", rollout, "staging", set_path("Deployment", "spec.strategy", {"type": "Recreate"}),
     [("rollout.strategy", DEPLOYMENT, "spec.strategy.type")]),
    ("max-unavailable-one", rollout, "staging",
     set_path("Deployment", "spec.strategy.rollingUpdate.maxUnavailable", 1),
     [("rollout.max-unavailable", DEPLOYMENT, "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("max-unavailable-percent", rollout, "staging",
     set_path("Deployment", "spec.strategy.rollingUpdate.maxUnavailable", "25%"),
     [("rollout.max-unavailable", DEPLOYMENT, "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("max-unavailable-defaulted", rollout, "staging",
     set_path("Deployment", "spec.strategy.rollingUpdate", "-"),
     [("rollout.max-unavailable", DEPLOYMENT, "spec.strategy.rollingUpdate.maxUnavailable")]),
    ("max-surge-zero", rollout, "staging",
     set_path("Deployment", "spec.strategy.rollingUpdate.maxSurge", 0),
     [("rollout.max-surge", DEPLOYMENT, "spec.strategy.rollingUpdate.maxSurge")]),
    ("max-surge-zero-percent", rollout, "staging",
     set_path("Deployment", "spec.strategy.rollingUpdate.maxSurge", "0%"),
     [("rollout.max-surge", DEPLOYMENT, "spec.strategy.rollingUpdate.maxSurge")]),
    ("production-hpa-min-one", rollout, "production",
     set_path("HorizontalPodAutoscaler", "spec.minReplicas", 1),
     [("rollout.min-replicas", HPA, "spec.minReplicas")]),
    ("hpa-target-above-alert-line", rollout, "production",
     lambda docs: find_doc(docs, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["resource"]["target"]
     .update(averageUtilization=85),
     [("rollout.autoscaling-target", HPA, "spec.metrics[0].resource.target.averageUtilization")]),
    ("pdb-missing-with-two-replicas", rollout, "staging", remove_kind("PodDisruptionBudget"),
     [("rollout.pdb-present", DEPLOYMENT, "PodDisruptionBudget")]),
    ("pdb-blocks-drain", rollout, "staging",
     lambda docs: find_doc(docs, "PodDisruptionBudget")["spec"].update(maxUnavailable=0),
     [("rollout.pdb-allows-drain", PDB, "spec.maxUnavailable")]),
    ("pdb-min-available-all", rollout, "staging",
     lambda docs: (find_doc(docs, "PodDisruptionBudget")["spec"].pop("maxUnavailable"),
                   find_doc(docs, "PodDisruptionBudget")["spec"].update(minAvailable="100%")),
     [("rollout.pdb-allows-drain", PDB, "spec.minAvailable")]),
    ("liveness-wrong-path", probes, "production", set_path("container", "livenessProbe.httpGet.path", "/health"),
     [("probes.path", DEPLOYMENT, f"{APP}.livenessProbe.httpGet.path")]),
    ("readiness-without-query", probes, "production",
     set_path("container", "readinessProbe.httpGet.path", "/healthz"),
     [("probes.path", DEPLOYMENT, f"{APP}.readinessProbe.httpGet.path")]),
    ("readiness-exec-probe", probes, "production",
     set_path("container", "readinessProbe", {"exec": {"command": ["true"]}, "periodSeconds": 5}),
     [("probes.path", DEPLOYMENT, f"{APP}.readinessProbe.httpGet.path")]),
    ("liveness-missing", probes, "production", set_path("container", "livenessProbe", "-"),
     [("probes.present", DEPLOYMENT, f"{APP}.livenessProbe")]),
    ("probe-undeclared-port", probes, "staging", set_path("container", "livenessProbe.httpGet.port", 8080),
     [("probes.port", DEPLOYMENT, f"{APP}.livenessProbe.httpGet.port")]),
    ("readiness-period-too-short", probes, "staging", set_path("container", "readinessProbe.periodSeconds", 4),
     [("probes.period", DEPLOYMENT, f"{APP}.readinessProbe.periodSeconds")]),
    ("liveness-period-too-long", probes, "staging", set_path("container", "livenessProbe.periodSeconds", 11),
     [("probes.period", DEPLOYMENT, f"{APP}.livenessProbe.periodSeconds")]),
    ("liveness-period-defaulted-ok-but-threshold-high", probes, "staging",
     set_path("container", "livenessProbe.failureThreshold", 4),
     [("probes.failure-threshold", DEPLOYMENT, f"{APP}.livenessProbe.failureThreshold")]),
    ("readiness-threshold-defaults-checked", probes, "development",
     set_path("container", "readinessProbe.failureThreshold", 5),
     [("probes.failure-threshold", DEPLOYMENT, f"{APP}.readinessProbe.failureThreshold")]),
    ("probes-identical", probes, "development",
     lambda docs: app_container(docs).update(readinessProbe=app_container(docs)["livenessProbe"]),
     [("probes.path", DEPLOYMENT, f"{APP}.readinessProbe.httpGet.path"),
      ("probes.distinct", DEPLOYMENT, f"{APP}.livenessProbe")]),
    ("readiness-delayed-past-boot", timing, "production",
     set_path("container", "readinessProbe.initialDelaySeconds", 11),
     [("timing.boot-detection", DEPLOYMENT, f"{APP}.readinessProbe.initialDelaySeconds")]),
    ("startup-kills-too-early", timing, "production", set_path("container", "startupProbe.failureThreshold", 5),
     [("timing.no-premature-kill", DEPLOYMENT, f"{APP}.startupProbe")]),
    ("liveness-kills-too-early-without-startup", timing, "production",
     lambda docs: (app_container(docs).pop("startupProbe"),
                   app_container(docs)["livenessProbe"].update(periodSeconds=5, failureThreshold=2)),
     [("timing.no-premature-kill", DEPLOYMENT, f"{APP}.livenessProbe")]),
    ("slow-replacement", timing, "production", set_path("Deployment", "spec.minReadySeconds", 20),
     [("timing.pod-replacement", DEPLOYMENT, f"{APP}.readinessProbe.periodSeconds")]),
    ("slow-unready-detection", timing, "production", set_path("container", "readinessProbe.periodSeconds", 10),
     [("timing.stabilization", DEPLOYMENT, f"{APP}.readinessProbe")]),
    ("no-prestop", timing, "production", set_path("container", "lifecycle", "-"),
     [("timing.traffic-switch", DEPLOYMENT, f"{APP}.lifecycle.preStop")]),
    ("grace-too-short", timing, "production",
     set_path("Deployment", "spec.template.spec.terminationGracePeriodSeconds", 8),
     [("timing.traffic-switch", DEPLOYMENT, "spec.template.spec.terminationGracePeriodSeconds")]),
    ("metrics-port-in-production", metrics, "production", add_metrics_port,
     [("metrics.environments", DEPLOYMENT, f"{APP}.ports[1]")]),
    ("metrics-flag-in-staging", metrics, "staging", enable_metrics_flag,
     [("metrics.environments", DEPLOYMENT, f"{APP}.env[0].value")]),
    ("metrics-flag-in-the-configmap", metrics, "staging", enable_metrics_in_config_map,
     [("metrics.environments", "ConfigMap/prompted-forge-mcp", "data.PF_METRICS_ENABLED")]),
    ("service-monitor-in-production", metrics, "production", add_service_monitor,
     [("metrics.environments", "ServiceMonitor/prompted-forge-mcp", "kind")]),
]


@pytest.mark.parametrize(("family", "environment", "mutate", "expected"),
                         [pytest.param(*case[1:], id=case[0]) for case in VIOLATIONS])
def test_should_flag_the_violation_at_its_field_line(family, environment, mutate, expected, render_env, budget,
                                                     tmp_path):
    docs = editable_docs(render_env(environment))
    mutate(docs)
    case = RuleCase(tmp_path, docs, environment=environment, budget=budget)

    findings = case.findings(family.check)

    assert finding_tuples(findings) == case.at(*expected)
    assert all(f.environment == environment and f.expected for f in findings)


@pytest.mark.parametrize("family", [resources, rollout, probes, timing, metrics], ids=lambda m: m.__name__)
def test_should_pass_the_shipped_render(family, rendered, budget):
    assert run_rule(family.check, editable_docs(rendered), rendered.environment, budget) == []


def test_should_cover_every_rule_id_with_a_violation():
    declared = {rule for family in (resources, rollout, probes, timing, metrics) for rule in family.RULES}
    assert declared <= {rule for case in VIOLATIONS for rule, _, _ in case[-1]}


def test_should_compare_quantities_not_text(render_env, budget):
    docs = editable_docs(render_env("production"))
    app_container(docs)["resources"]["limits"].update(cpu="1", memory="1073741824")  # equal to 1000m / 1Gi
    assert run_rule(resources.check, docs, "production", budget) == []


@pytest.mark.parametrize(("value", "on"), [("true", True), ("TRUE", True), (" true ", True), ("1", True),
                                           ("yes", True), ("On", True), ("false", False), ("0", False),
                                           ("", False), ("enabled", False)], ids=repr)
def test_should_read_the_metrics_flag_as_the_boot_target_flags_are_read(value, on, render_env, budget):
    docs = editable_docs(render_env("production"))
    env = app_container(docs).setdefault("env", [])
    env.append({"name": "PF_METRICS_ENABLED", "value": value})
    findings = run_rule(metrics.check, docs, "production", budget)
    field = f"spec.template.spec.containers[0].env[{len(env) - 1}].value"
    assert [(f.rule, f.field, f.actual) for f in findings] == (
        [("metrics.environments", field, f"PF_METRICS_ENABLED={value}")] if on else [])


def test_should_allow_metrics_in_development(render_env, budget):
    docs = editable_docs(render_env("development"))
    add_service_monitor(docs)
    assert run_rule(metrics.check, docs, "development", budget) == []


def test_should_use_baseline_boot_target_when_only_the_orchestrator_is_on(render_env, budget, tmp_path):
    docs = editable_docs(render_env("production"))
    # The app's own ConfigMap (named like its Deployment), not the dashboard's.
    app_name = find_doc(docs, "Deployment")["metadata"]["name"]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == app_name)["data"]
    for key in config:
        if key.startswith("PF_") and key.endswith("_ENABLED"):
            config[key] = "true" if key == "PF_ORCH_ENABLED" else "false"
    baseline = budget["startup"]["features"]["baselineBootSeconds"]
    app_container(docs)["readinessProbe"]["initialDelaySeconds"] = baseline + 1
    case = RuleCase(tmp_path, docs, budget=budget)
    findings = case.findings(timing.check)
    assert finding_tuples(findings) == case.at(
        ("timing.boot-detection", DEPLOYMENT, f"{APP}.readinessProbe.initialDelaySeconds"))
    assert [f.expected for f in findings] == [f"<= {baseline:g}s"]
