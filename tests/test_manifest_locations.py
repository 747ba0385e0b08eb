"""`check --manifests`: a finding points at the line and column of the offending field itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rulekit import app_container, editable_docs, find_doc, finding_tuples, line_of, run_rule_on_file

from policies.checks.rules import probes, rollout
from policies.cli import main
from policies.core.paths import display_path
from policies.inputs.budget import Budget
from policies.render.manifests import parse_manifests
from policies.render.render import Render

DEPLOYMENT = "Deployment/prompted-forge-mcp"
MAX_UNAVAILABLE = "spec.strategy.rollingUpdate.maxUnavailable"

MULTI_DOCUMENT = """\
# leading comment
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: svc, labels: {app: x}}   # flow style
spec:
  ports:
    - name: http
      port: 80
---

---
# Source: chart/templates/list.yaml
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: first
    data: {a: "1"}
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: second
    data:
      # a comment inside
      b: "2"
"""


def test_should_locate_fields_in_flow_style_lists_and_list_items() -> None:
    service, first, second = parse_manifests(MULTI_DOCUMENT, origin="m.yaml")

    assert [m.line for m in (service, first, second)] == [4, 15, 15]  # a List item starts where its List does
    assert service.position("metadata.labels.app") == (6, 32)
    assert service.position("spec.ports[0].port") == (10, 7)
    assert service.position("spec.ports[name=http]") == (9, 7)
    assert first.position("data.a") == (22, 12)
    assert second.position("data.b") == (29, 7)


def test_should_point_a_missing_field_at_its_nearest_written_parent() -> None:
    service, _, second = parse_manifests(MULTI_DOCUMENT, origin="m.yaml")

    assert service.position("spec.ports[0].targetPort") == (9, 7)
    assert service.position("spec.ports[*].port") == (8, 3)
    assert service.position("spec.selector") == (7, 1)
    assert second.position("PodDisruptionBudget") == (23, 5)


def test_should_point_at_the_changed_value_in_helms_own_output(
    render_env: Callable[[str], Render], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = render_env("production").text
    assert text.count("maxUnavailable: 0\n") == 1
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(text.replace("maxUnavailable: 0\n", "maxUnavailable: 25%\n"), encoding="utf-8")

    code = main(["check", "--env", "production", "--manifests", str(manifests), "--format", "json",
                 "--timing-runs", "0", "--mode", "enforce"])

    findings = json.loads(capsys.readouterr().out)["findings"]
    line = line_of(manifests, "maxUnavailable: 25%")
    column = manifests.read_text(encoding="utf-8").splitlines()[line - 1].index("maxUnavailable") + 1
    assert code == 1
    assert [(f["rule"], f["resource"], f["field"], f["file"], f["line"], f["column"]) for f in findings] == [
        ("rollout.max-unavailable", DEPLOYMENT, MAX_UNAVAILABLE, display_path(manifests), line, column)]


def test_should_give_each_finding_in_one_document_its_own_line(
    render_env: Callable[[str], Render], budget: Budget, tmp_path: Path
) -> None:
    docs = editable_docs(render_env("staging"))
    container = app_container(docs)
    container["livenessProbe"]["periodSeconds"] = 61
    container["readinessProbe"]["failureThreshold"] = 9
    path = tmp_path / "rendered.yaml"

    findings = run_rule_on_file(probes.check, docs, "staging", budget, path)

    deployment = line_of(path, "kind: Deployment")
    base = "spec.template.spec.containers[0]"
    assert finding_tuples(findings) == [
        ("probes.period", DEPLOYMENT, f"{base}.livenessProbe.periodSeconds", display_path(path),
         line_of(path, "periodSeconds: 61", deployment)),
        ("probes.failure-threshold", DEPLOYMENT, f"{base}.readinessProbe.failureThreshold", display_path(path),
         line_of(path, "failureThreshold: 9", deployment)),
    ]


def test_should_point_a_removed_field_at_its_parent(
    render_env: Callable[[str], Render], budget: Budget, tmp_path: Path
) -> None:
    docs = editable_docs(render_env("production"))
    del find_doc(docs, "Deployment")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]
    path = tmp_path / "rendered.yaml"

    findings = run_rule_on_file(rollout.check, docs, "production", budget, path)

    assert finding_tuples(findings) == [
        ("rollout.max-unavailable", DEPLOYMENT, MAX_UNAVAILABLE, display_path(path),
         line_of(path, "rollingUpdate:", line_of(path, "kind: Deployment"))),
    ]


def test_should_point_a_schema_finding_at_the_unknown_field(
    render_env: Callable[[str], Render], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = render_env("production").text
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(text.replace("maxUnavailable: 0\n", "maxUnavailable: 0\n      maxUnavailabel: 1\n"),
                         encoding="utf-8")

    main(["check", "--env", "production", "--manifests", str(manifests), "--format", "json", "--timing-runs", "0",
          "--mode", "enforce"])

    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "schema.kubernetes"]
    assert [(f["resource"], f["field"], f["file"], f["line"], f["column"]) for f in findings] == [
        (DEPLOYMENT, "spec.strategy.rollingUpdate.maxUnavailabel", display_path(manifests),
         line_of(manifests, "maxUnavailabel: 1"), 7)]
