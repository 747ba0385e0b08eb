"""The security rules: each fed a hardened workload (no findings) and one violation (its rule id)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import (
    SELECTOR,
    TEST_SELECTOR,
    budget_test_policy,
    budget_with,
    config_map,
    container,
    context,
    deployment,
    network_policy,
    pod,
    pod_security_context,
    security_context,
    service,
)

from policies.cli import main
from policies.render import Render
from policies.rules import network, security

DIGEST = "sha256:" + "a" * 64


def rules_found(*docs: dict[str, Any], **kwargs: Any) -> list[str]:
    ctx = context(*docs, **kwargs)
    return [finding.rule for finding in (*security.check(ctx), *network.check(ctx))]


def hardened(*extra: dict[str, Any], **deployment_args: Any) -> list[dict[str, Any]]:
    """A hardened service Deployment with its Service and NetworkPolicy, plus extra documents."""
    return [deployment(**deployment_args), service(), network_policy(), *extra]


def with_test_pod(**pod_args: Any) -> list[dict[str, Any]]:
    """The helm test pod with its own NetworkPolicy, as the chart renders them."""
    return [pod(**pod_args), budget_test_policy()]


def test_should_find_nothing_in_a_hardened_deployment_with_its_test_pod() -> None:
    assert rules_found(*hardened(*with_test_pod())) == []


def test_every_rule_id_is_exercised_by_a_violation_below() -> None:
    exercised = {case.values[0] for case in VIOLATIONS}
    assert exercised == set(security.RULES) | set(network.RULES)


def _container_with(**security: Any) -> dict[str, Any]:
    return container(securityContext=security_context(**security))


VIOLATIONS = [
    pytest.param("security.high-uid-gid", hardened(containers=[_container_with(runAsUser=0)]), id="root-user"),
    pytest.param("security.high-uid-gid", hardened(containers=[_container_with(runAsGroup=1000)]), id="low-gid"),
    pytest.param("security.read-only-root",
                 hardened(containers=[_container_with(readOnlyRootFilesystem=False)]),
                 id="writable-root"),
    pytest.param("security.image-tag",
                 hardened(containers=[container(image="ghcr.io/prompted-forge/mcp-server:latest")]),
                 id="latest-tag"),
    pytest.param("security.image-tag",
                 hardened(containers=[container(image="registry:5000/prompted-forge/mcp-server")]),
                 id="registry-port-is-not-a-tag"),
    pytest.param("security.image-digest", hardened(), id="digest-required"),
    pytest.param("security.image-pull-policy", hardened(containers=[container(imagePullPolicy=None)]),
                 id="pull-policy-unset"),
    pytest.param("security.service-account-token", hardened(spec={"automountServiceAccountToken": None}),
                 id="pod-token-mounted"),
    pytest.param("security.service-account-token",
                 hardened({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "pf"}}),
                 id="service-account-token-mounted"),
    pytest.param("security.network-policy", [deployment(), service()], id="no-network-policy"),
    pytest.param("security.network-policy",
                 [deployment(), service(), network_policy(policy_types=["Egress"])],
                 id="egress-only-policy"),
    pytest.param("security.network-policy-ports",
                 [deployment(), service(), network_policy(ingress=[{"from": [{"podSelector": {}}]}])],
                 id="every-port-open"),
    pytest.param("security.network-policy-ports",
                 [deployment(), service(), network_policy(ingress=[{"ports": [{"port": "metrics"}]}])],
                 id="metrics-port-while-metrics-off"),
    pytest.param("security.system-namespace", hardened(service(namespace="kube-system")), id="kube-system"),
    pytest.param("security.network-policy", hardened(pod()), id="test-pod-without-policy"),
    pytest.param("security.network-policy-egress", hardened(pod(), budget_test_policy(policyTypes=["Ingress"],
                                                                                       egress=[])),
                 id="test-pod-egress-unrestricted"),
    pytest.param("security.network-policy-egress",
                 hardened(pod(), budget_test_policy(ingress=[{"ports": [{"port": 8080}]}])),
                 id="test-pod-accepts-ingress"),
    pytest.param("security.network-policy-egress",
                 hardened(pod(), budget_test_policy(egress=[{"ports": [{"port": "http"}]}])),
                 id="test-pod-reaches-any-destination"),
    pytest.param("security.network-policy-egress",
                 hardened(pod(), budget_test_policy(egress=[{"to": [{"namespaceSelector": {}}],
                                                              "ports": [{"port": "http"}]}])),
                 id="test-pod-reaches-every-namespace"),
    pytest.param("security.network-policy-egress",
                 hardened(pod(), budget_test_policy(egress=[{"to": [{"podSelector": {"matchLabels": SELECTOR}}],
                                                              "ports": [{"port": 80}]}])),
                 id="test-pod-egress-to-the-service-port-not-the-container-port"),
    pytest.param("security.network-policy-admits-test",
                 [deployment(), service(), *with_test_pod(),
                  network_policy(ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "edge"}}}],
                                           "ports": [{"port": "http"}]}])],
                 id="service-policy-shuts-out-the-test-pod"),
    pytest.param("security.network-policy-ports",
                 [deployment(), service(),
                  network_policy(ingress=[{"ports": [{"port": 1024, "endPort": 65535}]}])],
                 id="port-range"),
]


@pytest.mark.parametrize(("rule", "docs"), VIOLATIONS)
def test_should_flag_the_violation_with_its_rule_id(rule: str, docs: list[dict[str, Any]]) -> None:
    budget = budget_with("production", requireImageDigest=True) if rule == "security.image-digest" else None
    assert rule in rules_found(*docs, budget=budget)


def test_should_accept_a_capability_to_bind_low_ports() -> None:
    docs = hardened(containers=[_container_with(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})])
    assert rules_found(*docs) == []


def test_should_accept_pod_level_identity_and_seccomp_inherited_by_the_container() -> None:
    inherited = container(securityContext=security_context(runAsUser=None, runAsGroup=None, runAsNonRoot=None,
                                                           seccompProfile=None))
    assert rules_found(*hardened(containers=[inherited])) == []


def test_should_point_a_pod_level_setting_at_pod_security_context() -> None:
    inherited = container(securityContext=security_context(runAsUser=None))
    docs = hardened(containers=[inherited], spec={"securityContext": pod_security_context(runAsUser=0)})
    [finding] = security.check(context(*docs))
    assert (finding.rule, finding.values_key) == ("security.high-uid-gid", ("podSecurityContext", "runAsUser"))


@pytest.mark.parametrize("image", ["ghcr.io/prompted-forge/mcp-server:1.0.0",
                                   "registry:5000/prompted-forge/mcp-server:1.0.0",
                                   "ghcr.io/prompted-forge/mcp-server:v2.10.3",
                                   "docker.io/library/node:20.18.1-alpine3.20",
                                   "ghcr.io/prompted-forge/mcp-server:1.0.0-rc.1",
                                   f"ghcr.io/prompted-forge/mcp-server@{DIGEST}",
                                   f"docker.io/library/node:20-alpine@{DIGEST}"])
def test_should_accept_a_pinned_image(image: str) -> None:
    assert rules_found(*hardened(containers=[container(image=image)])) == []


@pytest.mark.parametrize("tag", ["20-alpine", "20.18-alpine3.20", "lts", "20", "1.0", "1.0.0.1", "latest",
                                 "1.0.0-", "stable-1.0.0"])
def test_should_flag_a_tag_that_can_move(tag: str) -> None:
    assert rules_found(*hardened(containers=[container(image=f"docker.io/library/node:{tag}")])) == [
        "security.image-tag"]


@pytest.mark.parametrize(("uid", "expected"), [(10000, []), (9999, ["security.high-uid-gid"])])
def test_should_draw_the_high_id_line_at_10000(uid: int, expected: list[str]) -> None:
    assert rules_found(*hardened(containers=[_container_with(runAsUser=uid, runAsGroup=uid)])) == expected * 2


def test_should_accept_an_unpinned_image_where_the_budget_does_not_require_a_tag() -> None:
    docs = hardened(containers=[container(image="ghcr.io/prompted-forge/mcp-server:latest")])
    assert rules_found(*docs, environment="development") == []


def test_should_accept_a_digest_where_the_budget_requires_one() -> None:
    docs = hardened(containers=[container(image=f"ghcr.io/prompted-forge/mcp-server:1.0.0@{DIGEST}")])
    assert rules_found(*docs, budget=budget_with("production", requireImageDigest=True)) == []


def test_should_not_require_a_digest_of_the_test_hook_image() -> None:
    docs = hardened(*with_test_pod(), containers=[container(image=f"ghcr.io/prompted-forge/mcp-server@{DIGEST}")])
    assert rules_found(*docs, budget=budget_with("production", requireImageDigest=True)) == []


def test_should_accept_the_metrics_port_where_metrics_are_on() -> None:
    ports = [{"name": "http", "containerPort": 3000}, {"name": "metrics", "containerPort": 9464}]
    svc = service(ports=[{"name": "http", "port": 80, "targetPort": "http"},
                         {"name": "metrics", "port": 9464, "targetPort": "metrics"}])
    policy = network_policy(ingress=[{"ports": [{"port": "http"}]}, {"ports": [{"port": "metrics"}]}])
    assert rules_found(deployment(containers=[container(ports=ports)]), svc, policy) == []


def test_should_accept_ingress_by_port_number_and_from_chosen_peers() -> None:
    policy = network_policy(ingress=[{"from": [{"namespaceSelector": {}}], "ports": [{"port": 3000}]}])
    assert rules_found(deployment(), service(), policy) == []


def test_should_flag_a_declared_port_that_no_service_routes_to() -> None:
    ports = [{"name": "http", "containerPort": 3000}, {"name": "debug", "containerPort": 9229}]
    policy = network_policy(ingress=[{"ports": [{"port": "http"}, {"port": "debug"}]}])
    docs = [deployment(containers=[container(ports=ports)]), service(), policy]
    findings = list(network.check(context(*docs)))
    assert [(f.rule, f.actual) for f in findings] == [("security.network-policy-ports", "debug")]


def test_should_accept_egress_rules_next_to_ingress() -> None:
    policy = network_policy(policy_types=["Ingress", "Egress"],
                            egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])
    assert rules_found(deployment(), service(), policy) == []


def test_should_name_the_values_key_that_fixes_a_container_setting() -> None:
    [finding] = security.check(context(*hardened(containers=[_container_with(readOnlyRootFilesystem=False)])))
    assert finding.values_key == ("securityContext", "readOnlyRootFilesystem")
    assert finding.resource == "Deployment/prompted-forge-mcp"
    assert finding.field == "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"


@pytest.mark.parametrize(("image", "expected"), [
    ("nginx", ("nginx", "", "")),
    ("nginx:1.27", ("nginx", "1.27", "")),
    ("registry:5000/team/app", ("registry:5000/team/app", "", "")),
    ("registry:5000/team/app:2", ("registry:5000/team/app", "2", "")),
    (f"app:1@{DIGEST}", ("app", "1", DIGEST)),
])
def test_should_split_an_image_reference_into_repository_tag_and_digest(image: str, expected: tuple) -> None:
    assert security.split_image(image) == expected


@pytest.mark.parametrize("port", ["http", 3000])
def test_should_accept_test_egress_to_the_container_port_by_name_or_number(port: object) -> None:
    egress = [{"to": [{"podSelector": {"matchLabels": SELECTOR}}], "ports": [{"port": port}]},
              {"ports": [{"port": 53, "protocol": "UDP"}]}]
    assert rules_found(*hardened(pod(), budget_test_policy(egress=egress))) == []


def test_should_accept_a_service_policy_that_admits_the_test_pod_next_to_chosen_peers() -> None:
    peers = [{"namespaceSelector": {"matchLabels": {"team": "edge"}}}, {"podSelector": {"matchLabels": TEST_SELECTOR}}]
    policy = network_policy(ingress=[{"from": peers, "ports": [{"port": "http"}]}])
    assert rules_found(deployment(), service(), policy, *with_test_pod()) == []


def test_should_not_count_a_policy_whose_expressions_exclude_the_pod() -> None:
    policy = network_policy(podSelector={"matchLabels": SELECTOR, "matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": [SELECTOR["app.kubernetes.io/name"]]}]})
    assert rules_found(deployment(), service(), policy) == ["security.network-policy"]


def test_should_count_a_policy_selecting_every_pod() -> None:
    assert rules_found(deployment(), service(), network_policy(podSelector={})) == []


def test_should_flag_a_policy_for_every_pod_that_opens_ingress_to_the_test_pod() -> None:
    docs = [deployment(), service(), network_policy(podSelector={}), *with_test_pod()]
    assert rules_found(*docs) == ["security.network-policy-egress"]


@pytest.mark.parametrize("namespace", ["default", "kube-system"])
def test_should_warn_of_an_object_placed_in_a_system_namespace(namespace: str) -> None:
    ctx = context(*hardened(), config_map(namespace=namespace))
    found = [(f.rule, f.severity.value, f.resource, f.field, f.actual) for f in security.check(ctx)]
    assert found == [("security.system-namespace", "warning", "ConfigMap/prompted-forge-mcp", "metadata.namespace",
                      namespace)]


@pytest.mark.parametrize("namespace", ["prompted-forge-mcp", "defaults", "kube-public-apps", None])
def test_should_accept_an_object_in_its_own_namespace_or_none(namespace: str | None) -> None:
    assert list(security.check(context(*hardened(), config_map(namespace=namespace)))) == []


def test_should_only_warn_of_a_system_namespace_in_manifests_input_at_its_line(
        tmp_path: Path, capsys: Any, render_env: Callable[[str], Render]) -> None:
    docs = render_env("production").manifests.docs()
    service_doc = next(d for d in docs if d["kind"] == "Service")
    service_doc["metadata"]["namespace"] = "default"
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(yaml.safe_dump_all(docs, width=1000), encoding="utf-8")
    code = main(["check", "--format", "json", "--timing-runs", "0", "--env", "production",
                 "--manifests", str(manifests), "--mode", "enforce"])
    report = json.loads(capsys.readouterr().out)
    lines = manifests.read_text(encoding="utf-8").splitlines()
    start = lines.index("kind: Service")
    line = next(n for n, text in enumerate(lines[start:], start + 1) if text.strip() == "namespace: default")
    assert code == 0
    assert [(f["rule"], f["severity"], f["resource"], f["field"], f["line"]) for f in report["findings"]] == [
        ("security.system-namespace", "warning", "Service/prompted-forge-mcp", "metadata.namespace", line)]
