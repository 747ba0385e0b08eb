"""The ways around the gate that issue #11 found, each through the command a user runs:
`python -m policies check --env production --manifests FILE --mode enforce` on the production render changed
one way. Each used to exit 0; each twin shows the boundary that still passes."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rulekit import RuleCase, app_container, editable_docs, find_doc, line_of

from policies import CHART_DIR
from policies.cli import main
from policies.core.paths import display_path

Docs = list[dict[str, Any]]
POD = "spec.template.spec"


def sized(name: str, cpu: str, memory: str, security: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A container as hardened as the service's, with requests equal to limits."""
    return {"name": name, "image": "ghcr.io/prompted-forge/mcp-server:1.0.0", "imagePullPolicy": "IfNotPresent",
            "securityContext": dict(security),
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}},
            **extra}


def add_init(cpu: str, memory: str, sidecar: bool = False) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        extra = {"restartPolicy": "Always"} if sidecar else {}
        helper = sized("helper", cpu, memory, app_container(docs)["securityContext"], **extra)
        find_doc(docs, "Deployment")["spec"]["template"]["spec"].setdefault("initContainers", []).append(helper)
    return mutate


def shrink_app(cpu: str, memory: str) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        app_container(docs)["resources"]["requests"].update(cpu=cpu, memory=memory)
    return mutate


def as_statefulset(update_strategy: dict[str, Any]) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        workload = find_doc(docs, "Deployment")
        workload["kind"] = "StatefulSet"
        spec = workload["spec"]
        spec.pop("strategy", None)
        spec["serviceName"] = workload["metadata"]["name"]
        spec["updateStrategy"] = update_strategy
    return mutate


def as_daemonset(docs: Docs) -> None:
    workload = find_doc(docs, "Deployment")
    workload["kind"] = "DaemonSet"
    spec = workload["spec"]
    for key in ("strategy", "replicas", "progressDeadlineSeconds", "revisionHistoryLimit"):
        spec.pop(key, None)
    spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    docs[:] = [d for d in docs if d["kind"] not in ("HorizontalPodAutoscaler", "PodDisruptionBudget")]


def add_ephemeral(docs: Docs) -> None:
    find_doc(docs, "Deployment")["spec"]["template"]["spec"]["ephemeralContainers"] = [
        {"name": "debugger", "image": "busybox:1.36"}]


def chained(*steps: Callable[[Docs], None]) -> Callable[[Docs], None]:
    def mutate(docs: Docs) -> None:
        for step in steps:
            step(docs)
    return mutate


def run(render_env, tmp_path: Path, capsys, mutate: Callable[[Docs], None]
        ) -> tuple[int, list[tuple[Any, ...]], RuleCase]:
    """The changed render written to a file and checked by the command: (exit code, every failure's
    (rule, resource, field, file, line), the case that computes the expected lines from the written file)."""
    docs = editable_docs(render_env("production"))
    mutate(docs)
    case = RuleCase(tmp_path, docs)
    code = main(["check", "--env", "production", "--manifests", str(case.path), "--mode", "enforce", "--format",
                 "json", "--timing-runs", "0"])
    report = json.loads(capsys.readouterr().out)
    return code, [(f["rule"], f["resource"], f["field"], f["file"], f["line"]) for f in report["findings"]
                  if f["severity"] == "failure"], case


APP, QUOTA = "Deployment/prompted-forge-mcp", "ResourceQuota/prompted-forge-mcp-budget"
STATEFULSET = "StatefulSet/prompted-forge-mcp"
INIT = f"{POD}.initContainers[0].resources"
QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
# Each case's every failure: the rule it is about, and what the same change also breaks (the namespace guards
# that must admit the pod, the quota sized for a Deployment's surge, the hardening an ad-hoc container lacks).
CASES = [
    ("init-container-2-cpu-4Gi", add_init("2", "4Gi"), [
        *[("guard.limitrange-admits", APP, f"{INIT}.{field}") for field in (
            "limits.cpu", "requests.cpu", "limits.memory", "requests.memory")],
        ("guard.limitrange-admits", APP, f"{POD}.containers[*].resources.limits.cpu"),
        *[("guard.quota-admits", QUOTA, f'spec.hard["{key}"]') for key in QUOTA_KEYS],
        *[("resources.within-budget", APP, f"{INIT}.{field}") for field in (
            "limits.cpu", "limits.memory", "requests.cpu", "requests.memory")]]),
    ("native-sidecar-over-budget", add_init("50m", "64Mi", sidecar=True), [
        ("guard.limitrange-admits", APP, f"{POD}.containers[*].resources.limits.cpu"),
        *[("guard.quota-admits", QUOTA, f'spec.hard["{key}"]') for key in QUOTA_KEYS],
        *[("resources.within-budget", APP, f"{POD}.containers[0].resources.{field}") for field in (
            "limits.cpu", "limits.memory", "requests.cpu", "requests.memory")]]),
    ("statefulset-max-unavailable-2",
     as_statefulset({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}), [
         ("guard.equals-budget", QUOTA, "spec.hard.pods"),
         *[("guard.equals-budget", QUOTA, f'spec.hard["{key}"]') for key in QUOTA_KEYS],
         ("rollout.max-unavailable", STATEFULSET, "spec.updateStrategy.rollingUpdate.maxUnavailable"),
         ("rollout.min-replicas", STATEFULSET, "spec.replicas")]),
    ("statefulset-on-delete", as_statefulset({"type": "OnDelete"}), [
        ("guard.equals-budget", QUOTA, "spec.hard.pods"),
        *[("guard.equals-budget", QUOTA, f'spec.hard["{key}"]') for key in QUOTA_KEYS],
        ("rollout.min-replicas", STATEFULSET, "spec.replicas"),
        ("rollout.strategy", STATEFULSET, "spec.updateStrategy.type")]),
    ("ephemeral-containers", add_ephemeral, [
        ("pod.ephemeral-containers", APP, f"{POD}.ephemeralContainers"),
        ("security.image-pull-policy", APP, f"{POD}.ephemeralContainers[0].imagePullPolicy"),
        ("security.image-tag", APP, f"{POD}.ephemeralContainers[0].image"),
        ("security.read-only-root", APP, f"{POD}.ephemeralContainers[0].securityContext.readOnlyRootFilesystem")]),
]


@pytest.mark.parametrize(("mutate", "expected"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_should_fail_what_used_to_slip_through(mutate, expected, render_env, tmp_path, capsys):
    code, failures, case = run(render_env, tmp_path, capsys, mutate)
    assert code == 1
    assert failures == case.at(*expected)


TWINS = [
    ("init-container-within-budget", add_init("250m", "256Mi")),
    ("sidecar-within-budget-after-the-app-shrinks",
     chained(add_init("50m", "64Mi", sidecar=True), shrink_app("200m", "192Mi"),
             lambda docs: app_container(docs)["resources"]["limits"].update(cpu="950m", memory="960Mi"))),
    ("daemonset-surge-rollout", as_daemonset),
]


@pytest.mark.parametrize("mutate", [pytest.param(case[1], id=case[0]) for case in TWINS])
def test_should_pass_the_twin_at_the_boundary(mutate, render_env, tmp_path, capsys):
    code, failures, _ = run(render_env, tmp_path, capsys, mutate)
    assert (code, failures) == (0, [])


def test_should_show_production_at_the_chart_defaults_in_every_report(tmp_path, capsys):
    chart = tmp_path / CHART_DIR.name
    shutil.copytree(CHART_DIR, chart)
    values = chart / "values-production.yaml"
    # Only the resources block: the rest of production's file (its namespace guards among it) stays.
    values.write_text(re.sub(r"\n# Production budget[^\n]*\nresources:\n(?:  [^\n]*\n)+", "\n",
                             values.read_text(encoding="utf-8")), encoding="utf-8")
    assert "resources:" not in values.read_text(encoding="utf-8")
    assert "budgetGuard:" in values.read_text(encoding="utf-8")
    reports = tmp_path / "reports"
    code = main(["check", "--env", "production", "--chart", str(chart), "--format", "github", "--timing-runs", "0",
                 "--reports-dir", str(reports)])
    annotations = capsys.readouterr().out
    assert code == 0  # the floor warns by default
    summary = json.loads((reports / "check.json").read_text())["summary"]
    assert summary["status"] == "warn"
    floor = [f for f in json.loads((reports / "check.json").read_text())["findings"]
             if f["rule"] == "resources.under-budget"]
    assert [(f["field"].rsplit(".", 1)[-1], f["expected"], f["actual"]) for f in floor] == [
        ("cpu", ">= 125m", "50m"), ("memory", ">= 128Mi", "64Mi")]
    # The chart's defaults decide, so every format points at values.yaml's requests lines, and says nothing else.
    defaults = chart / "values.yaml"
    where = [(display_path(defaults), line_of(defaults, text)) for text in ("cpu: 50m", "memory: 64Mi")]
    assert [line.split("::")[1] for line in annotations.splitlines() if line.startswith(("::warning", "::error"))] == [
        f"warning file={file},line={line},title=resources.under-budget (production)" for file, line in where]
    assert [(f["rule"], f["file"], f["line"]) for f in json.loads((reports / "check.json").read_text())["findings"]
            ] == [("resources.under-budget", file, line) for file, line in where]
    [case] = [c for c in ET.parse(reports / "junit.xml").iter("testcase") if c.get("name") == "resources.under-budget"]
    assert case.find("failure") is None
    assert [text.rsplit("(", 1)[-1] for text in case.find("system-err").text.splitlines()] == [
        f"{file}:{line})" for file, line in where]
    assert "resources.under-budget" in (reports / "check.md").read_text()
