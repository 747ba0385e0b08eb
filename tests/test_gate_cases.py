"""The ways around the gate that issue #11 found, each through the command a user runs:
`python -m policies check --env production --manifests FILE --mode enforce` on the production render changed
one way. Each used to exit 0; each twin shows the boundary that still passes."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rulekit import app_container, editable_docs, find_doc

from policies import CHART_DIR
from policies.cli import main

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


def run(render_env, tmp_path: Path, capsys, mutate: Callable[[Docs], None]) -> tuple[int, list[dict[str, Any]]]:
    docs = editable_docs(render_env("production"))
    mutate(docs)
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    code = main(["check", "--env", "production", "--manifests", str(path), "--mode", "enforce", "--format", "json",
                 "--timing-runs", "0"])
    report = json.loads(capsys.readouterr().out)
    return code, [f for f in report["findings"] if f["severity"] == "failure"]


CASES = [
    ("init-container-2-cpu-4Gi", add_init("2", "4Gi"),
     {("resources.within-budget", f"{POD}.initContainers[0].resources.requests.cpu")}),
    ("native-sidecar-over-budget", add_init("50m", "64Mi", sidecar=True),
     {("resources.within-budget", f"{POD}.containers[0].resources.requests.cpu")}),
    ("statefulset-max-unavailable-2",
     as_statefulset({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}),
     {("rollout.max-unavailable", "spec.updateStrategy.rollingUpdate.maxUnavailable")}),
    ("statefulset-on-delete", as_statefulset({"type": "OnDelete"}),
     {("rollout.strategy", "spec.updateStrategy.type")}),
    ("ephemeral-containers", add_ephemeral, {("pod.ephemeral-containers", f"{POD}.ephemeralContainers")}),
]


@pytest.mark.parametrize(("mutate", "expected"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_should_fail_what_used_to_slip_through(mutate, expected, render_env, tmp_path, capsys):
    code, failures = run(render_env, tmp_path, capsys, mutate)
    assert code == 1
    assert expected <= {(f["rule"], f["field"]) for f in failures}, failures


TWINS = [
    ("init-container-within-budget", add_init("250m", "256Mi")),
    ("sidecar-within-budget-after-the-app-shrinks",
     chained(add_init("50m", "64Mi", sidecar=True), shrink_app("200m", "192Mi"),
             lambda docs: app_container(docs)["resources"]["limits"].update(cpu="950m", memory="960Mi"))),
    ("daemonset-surge-rollout", as_daemonset),
]


@pytest.mark.parametrize("mutate", [pytest.param(case[1], id=case[0]) for case in TWINS])
def test_should_pass_the_twin_at_the_boundary(mutate, render_env, tmp_path, capsys):
    code, failures = run(render_env, tmp_path, capsys, mutate)
    assert (code, failures) == (0, [])


def test_should_show_production_at_the_chart_defaults_in_every_report(tmp_path, capsys):
    chart = tmp_path / CHART_DIR.name
    shutil.copytree(CHART_DIR, chart)
    values = chart / "values-production.yaml"
    values.write_text(re.sub(r"\n# Production budget.*?\nresources:\n(?:  .*\n)+", "\n",
                             values.read_text(encoding="utf-8"), flags=re.S), encoding="utf-8")
    assert "resources:" not in values.read_text(encoding="utf-8")
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
    assert annotations.count("::warning ") >= 2 and "resources.under-budget" in annotations
    assert "resources.under-budget" in (reports / "check.md").read_text()
    assert "resources.under-budget" in (reports / "junit.xml").read_text()
