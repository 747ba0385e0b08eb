"""RBAC rules: broad bindings, wildcards, Secret reads, pod exec and escalation verbs, each with a twin that passes.

Each case is written to a file as `check --manifests` reads it and compared as the full list of
(rule, resource, field, file, line, actual), the line read back from the written file (tests/rulekit.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import context
from rulekit import RuleCase, safe_dump_all

from policies.checks.rules import rbac
from policies.cli import main
from policies.render.render import Render

RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def role(*rules: dict[str, Any], kind: str = "Role") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "pf"},
            "rules": list(rules)}


def rule(verbs: list[str], resources: list[str], groups: list[str] | None = None) -> dict[str, Any]:
    return {"apiGroups": groups if groups is not None else [""], "resources": resources, "verbs": verbs}


def binding(role_name: str, kind: str = "ClusterRoleBinding", role_kind: str = "ClusterRole") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "pf"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": "prompted-forge-mcp", "namespace": "default"}]}


Expect = Callable[..., None]


@pytest.fixture
def expect(tmp_path: Path) -> Expect:
    """The documents' RBAC findings are exactly `expected` (rule, resource, field, actual), each at its line."""
    def check(*docs: dict[str, Any], expected: list[tuple[str, str, str, str]]) -> None:
        case = RuleCase(tmp_path, docs)
        assert case.found(rbac.check, also=("actual",)) == case.at(*expected)
    return check


@pytest.mark.parametrize("name", ["cluster-admin", "admin", "edit"])
@pytest.mark.parametrize("kind", ["ClusterRoleBinding", "RoleBinding"])
def test_should_flag_a_binding_to_a_broad_cluster_role(expect: Expect, kind: str, name: str) -> None:
    expect(binding(name, kind), expected=[("rbac.privileged-binding", f"{kind}/pf", "roleRef.name", name)])


@pytest.mark.parametrize(("role_name", "role_kind"), [("view", "ClusterRole"), ("admin", "Role"),
                                                      ("pf-reader", "ClusterRole")])
def test_should_accept_a_binding_to_a_narrow_role(expect: Expect, role_name: str, role_kind: str) -> None:
    expect(binding(role_name, "RoleBinding", role_kind), expected=[])


@pytest.mark.parametrize("kind", ["Role", "ClusterRole"])
def test_should_flag_each_wildcard_once_where_it_is_written(expect: Expect, kind: str) -> None:
    expect(role(rule(["*"], ["*"], ["*"]), kind=kind), expected=[
        ("rbac.wildcard", f"{kind}/pf", "rules[0].verbs", "*"),
        ("rbac.wildcard", f"{kind}/pf", "rules[0].resources", "*"),
        ("rbac.wildcard", f"{kind}/pf", "rules[0].apiGroups", "*"),
        ("rbac.secrets-read", f"{kind}/pf", "rules[0].resources", "*"),
        ("rbac.pod-exec", f"{kind}/pf", "rules[0].resources", "*"),
    ])


def test_should_accept_named_verbs_resources_and_groups(expect: Expect) -> None:
    expect(role(rule(["get", "list", "watch"], ["configmaps", "pods"]), rule(["get"], ["deployments"], ["apps"])),
           expected=[])


@pytest.mark.parametrize("verb", ["get", "list", "watch", "*"])
def test_should_flag_reading_secrets(expect: Expect, verb: str) -> None:
    wildcard = [("rbac.wildcard", "Role/pf", "rules[0].verbs", "*")] if verb == "*" else []
    expect(role(rule([verb], ["secrets"])),
           expected=[*wildcard, ("rbac.secrets-read", "Role/pf", "rules[0].resources", "secrets")])


@pytest.mark.parametrize(("verbs", "resources", "groups"), [
    (["create", "update", "patch", "delete"], ["secrets"], [""]),  # write-only: not a read
    (["get"], ["secrets"], ["apps"]),  # no such resource outside the core group
    (["get"], ["configmaps"], [""]),
])
def test_should_accept_rules_that_cannot_read_secrets(expect: Expect, verbs: list[str], resources: list[str],
                                                      groups: list[str]) -> None:
    expect(role(rule(verbs, resources, groups)), expected=[])


@pytest.mark.parametrize(("verb", "resource"), [("create", "pods/exec"), ("get", "pods/exec"),
                                                ("create", "*/exec")])
def test_should_flag_exec_into_pods(expect: Expect, verb: str, resource: str) -> None:
    expect(role(rule([verb], [resource])), expected=[("rbac.pod-exec", "Role/pf", "rules[0].resources", resource)])


@pytest.mark.parametrize(("verb", "resource"), [("list", "pods/exec"), ("create", "pods"),
                                                ("get", "pods/log")])
def test_should_accept_pod_access_that_is_not_exec(expect: Expect, verb: str, resource: str) -> None:
    expect(role(rule([verb], [resource])), expected=[])


@pytest.mark.parametrize("verb", ["escalate", "bind", "impersonate"])
def test_should_flag_escalation_verbs(expect: Expect, verb: str) -> None:
    resources = {"escalate": ["roles"], "bind": ["clusterroles"], "impersonate": ["serviceaccounts"]}[verb]
    groups = [""] if verb == "impersonate" else ["rbac.authorization.k8s.io"]
    expect(role(rule(["get", verb], resources, groups)),
           expected=[("rbac.escalation-verbs", "Role/pf", "rules[0].verbs", f"get, {verb}")])


def test_should_accept_reading_roles_without_escalation_verbs(expect: Expect) -> None:
    expect(role(rule(["get", "list"], ["roles", "rolebindings"], ["rbac.authorization.k8s.io"])), expected=[])


def test_should_find_nothing_to_check_in_the_chart(rendered: Render) -> None:
    """The server never calls the Kubernetes API: the chart renders no RBAC, and the rules keep watch if it does."""
    assert [m.ref for m in rendered.manifests if m.kind in RBAC_KINDS] == []
    assert list(rbac.check(context(*rendered.manifests.docs()))) == []


def _every_switch_on(values: Any) -> Any:
    """values.yaml with every `enabled` switch set to true (and nothing else), so every optional object renders."""
    if isinstance(values, dict):
        return {k: True if k == "enabled" and isinstance(v, bool) else _every_switch_on(v) for k, v in values.items()
                if k == "enabled" or isinstance(v, dict)}
    return values


def test_should_render_no_rbac_with_every_optional_object_on(render_overlay: Callable[..., Render],
                                                             chart_dir: Path) -> None:
    overlay = _every_switch_on(yaml.safe_load((chart_dir / "values.yaml").read_text(encoding="utf-8")))
    overlay["networkPolicy"]["egress"] = {"restrict": True}
    render = render_overlay("development", overlay)
    assert {"ServiceMonitor", "PrometheusRule", "HorizontalPodAutoscaler"} <= {m.kind for m in render.manifests}
    assert [m.ref for m in render.manifests if m.kind in RBAC_KINDS] == []


def test_should_fail_the_issue_cases_in_manifests_input_at_their_lines(tmp_path: Path, capsys: Any,
                                                                       render_env: Callable[[str], Render]) -> None:
    admin = binding("cluster-admin")
    admin["metadata"]["name"] = "pf-admin"
    everything = role(rule(["*"], ["*"], ["apps"]))
    everything["metadata"]["name"] = "pf-everything"
    secrets = role(rule(["get", "list"], ["secrets"]))
    secrets["metadata"]["name"] = "pf-secrets"
    manifests = tmp_path / "rendered.yaml"
    docs = [*render_env("production").manifests.docs(), admin, everything, secrets]
    manifests.write_text(safe_dump_all(docs, width=1000), encoding="utf-8")
    code = main(["check", "--format", "json", "--timing-runs", "0", "--env", "production",
                 "--manifests", str(manifests), "--mode", "warn"])
    report = json.loads(capsys.readouterr().out)
    lines = manifests.read_text(encoding="utf-8").splitlines()

    def line_of(text: str, after: str) -> int:
        start = lines.index(after)
        return next(n for n, line in enumerate(lines[start:], start + 1) if line.strip() == text)

    assert code == 1  # RBAC is a safety rule: it fails in the warn phase too
    assert [(f["rule"], f["resource"], f["field"], f["line"]) for f in report["findings"]] == [
        ("rbac.privileged-binding", "ClusterRoleBinding/pf-admin", "roleRef.name",
         line_of("name: cluster-admin", "kind: ClusterRoleBinding")),
        ("rbac.secrets-read", "Role/pf-secrets", "rules[0].resources", line_of("resources:", "  name: pf-secrets")),
        ("rbac.wildcard", "Role/pf-everything", "rules[0].verbs", line_of("verbs:", "  name: pf-everything")),
        ("rbac.wildcard", "Role/pf-everything", "rules[0].resources", line_of("resources:", "  name: pf-everything")),
    ]
