"""Every environment's real render passes the security and secrets rules with nothing to waive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from builders import budget_with

from policies.checks.context import CheckContext
from policies.checks.rules import network, pod_security, probes, resources, secrets, security
from policies.inputs.budget import Budget
from policies.render.render import Render

DIGEST = "sha256:" + "0123456789abcdef" * 4
# The scanner checks other rule families own: requests and limits everywhere, probes on the service.
SCANNER_RULES = {"resources.set", "resources.quantity", "probes.present"}


def scan(render: Render, budget: Budget) -> list[Any]:
    ctx = CheckContext(render.environment, budget, render.manifests, render.layers)
    found = [*pod_security.check(ctx), *security.check(ctx), *network.check(ctx), *secrets.check(ctx)]
    found += [f for f in (*resources.check(ctx), *probes.check(ctx)) if f.rule in SCANNER_RULES]
    return found


def test_should_find_nothing_when_scanning_each_environment(rendered: Render, budget: Budget) -> None:
    assert [(f.rule, f.resource, f.field) for f in scan(rendered, budget)] == []


def test_should_scan_the_service_and_the_helm_test_pod(rendered: Render) -> None:
    pods = {m.ref for m in rendered.manifests.workloads(include_hooks=True)}
    assert pods == {"Deployment/prompted-forge-mcp", "Pod/prompted-forge-mcp-budget-test"}


def _policy(render: Render) -> dict[str, Any]:
    return render.manifests.get("NetworkPolicy", "prompted-forge-mcp").doc["spec"]


def test_should_open_the_metrics_port_only_where_metrics_are_on(rendered: Render) -> None:
    ports = [port["port"] for rule in _policy(rendered)["ingress"] for port in rule["ports"]]
    expected = ["http", "metrics"] if rendered.values["metrics"]["enabled"] else ["http"]
    assert ports == expected


def test_should_leave_egress_open_by_default_as_documented(rendered: Render, chart_dir: Any) -> None:
    assert _policy(rendered)["policyTypes"] == ["Ingress"]
    assert "egress is unrestricted" in (chart_dir / "values.yaml").read_text(encoding="utf-8")


def test_should_restrict_egress_to_dns_plus_extra_rules_when_asked(render_overlay: Callable[..., Render],
                                                                   budget: Budget) -> None:
    extra = {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}
    egress = {"restrict": True, "extraRules": [extra]}
    render = render_overlay("production", {"networkPolicy": {"egress": egress}})
    spec = _policy(render)
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert [port["port"] for port in spec["egress"][0]["ports"]] == [53, 53]
    assert spec["egress"][1] == extra
    assert scan(render, budget) == []


def test_should_admit_the_test_pod_when_ingress_is_limited_to_chosen_peers(
        render_overlay: Callable[..., Render], budget: Budget) -> None:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}
    render = render_overlay("staging", {"networkPolicy": {"ingressFrom": [peer]}})
    sources = _policy(render)["ingress"][0]["from"]
    test_labels = render.manifests.get("Pod").doc["metadata"]["labels"]
    assert sources[0] == peer
    assert all(test_labels[k] == v for k, v in sources[1]["podSelector"]["matchLabels"].items())
    assert scan(render, budget) == []


def test_should_reference_the_image_by_digest_when_one_is_set(render_overlay: Callable[..., Render]) -> None:
    render = render_overlay("production", {"image": {"digest": DIGEST}})
    container = render.manifests.get("Deployment").doc["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/prompted-forge/mcp-server@{DIGEST}"
    assert scan(render, budget_with("production", requireImageDigest=True)) == []


def test_should_flag_a_tag_only_image_where_the_budget_requires_a_digest(rendered: Render) -> None:
    found = scan(rendered, budget_with(rendered.environment, requireImageDigest=True))
    assert [(f.rule, f.values_key) for f in found] == [("security.image-digest", ("image", "digest"))]


@pytest.mark.parametrize(("overlay", "rule"), [
    ({"extraEnv": {"API_TOKEN": "abc123"}}, "secrets.literal"),
    ({"securityContext": {"runAsUser": 0}}, "pss.restricted.running-as-non-root-user"),
    ({"securityContext": {"runAsUser": 1000}}, "security.high-uid-gid"),
    ({"serviceAccount": {"automountToken": True}}, "security.service-account-token"),
    ({"image": {"tag": "latest"}}, "security.image-tag"),
    ({"image": {"tag": "1.0"}}, "security.image-tag"),
    ({"budgetTest": {"image": {"tag": "20-alpine"}}}, "security.image-tag"),
    ({"budgetTest": {"image": {"tag": "lts"}}}, "security.image-tag"),
    ({"networkPolicy": {"enabled": False}}, "security.network-policy"),
], ids=["secret-in-extra-env", "root-user", "low-uid", "token-mounted", "latest-tag", "minor-tag", "floating-test-tag",
        "lts-test-tag", "no-network-policy"])
def test_should_flag_a_hardening_mistake_made_in_values(render_overlay: Callable[..., Render], budget: Budget,
                                                        overlay: dict[str, Any], rule: str) -> None:
    assert rule in {f.rule for f in scan(render_overlay("production", overlay), budget)}


def test_should_give_the_test_pod_a_policy_with_no_ingress_and_egress_to_the_service_and_dns(rendered: Render
                                                                                             ) -> None:
    spec = rendered.manifests.get("NetworkPolicy", "prompted-forge-mcp-budget-test").doc["spec"]
    test_labels = rendered.manifests.get("Pod").doc["metadata"]["labels"]
    service_labels = rendered.manifests.get("Deployment").doc["spec"]["template"]["metadata"]["labels"]
    to_service, dns = spec["egress"]
    expected_ports = ["http", "metrics"] if rendered.values["metrics"]["enabled"] else ["http"]
    assert spec["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in spec
    assert all(test_labels[k] == v for k, v in spec["podSelector"]["matchLabels"].items())
    assert all(service_labels[k] == v for k, v in to_service["to"][0]["podSelector"]["matchLabels"].items())
    assert [port["port"] for port in to_service["ports"]] == expected_ports
    assert [(port["port"], port["protocol"]) for port in dns["ports"]] == [(53, "UDP"), (53, "TCP")]


@pytest.mark.parametrize("overlay", [
    {},
    {"networkPolicy": {"ingressFrom": [{"namespaceSelector": {"matchLabels": {"team": "edge"}}}]}},
    {"metrics": {"enabled": True}},
    {"metrics": {"enabled": True},
     "networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "egress": {"restrict": True}}},
], ids=["defaults", "ingress-from-chosen-peers", "metrics-on", "metrics-on-chosen-peers-egress-restricted"])
def test_should_admit_the_test_pod_in_every_network_policy_configuration(
        render_overlay: Callable[..., Render], budget: Budget, overlay: dict[str, Any]) -> None:
    render = render_overlay("development", overlay)
    assert [(f.rule, f.resource, f.field) for f in scan(render, budget) if "network" in f.rule] == []


def test_should_render_the_test_image_by_digest_when_one_is_set(render_overlay: Callable[..., Render],
                                                                budget: Budget) -> None:
    render = render_overlay("production", {"budgetTest": {"image": {"digest": DIGEST, "tag": "20-alpine"}}})
    assert render.manifests.get("Pod").doc["spec"]["containers"][0]["image"] == f"docker.io/library/node@{DIGEST}"
    assert scan(render, budget) == []


def test_should_point_a_floating_test_image_at_its_values_key(render_overlay: Callable[..., Render],
                                                              budget: Budget) -> None:
    found = scan(render_overlay("staging", {"budgetTest": {"image": {"tag": "20-alpine"}}}), budget)
    assert [(f.rule, f.resource, f.values_key) for f in found] == [
        ("security.image-tag", "Pod/prompted-forge-mcp-budget-test", ("budgetTest", "image", "tag"))]
