"""NetworkPolicies in front of every pod the chart renders, the helm test pod included.

The service's pods accept ingress only on the ports their Service routes to; a
helm hook pod accepts no ingress and reaches only the service's pods, on their
container ports, and DNS. NetworkPolicy egress is matched after the Service has
rewritten the destination to a pod address, so the Service port (80) is not what
an egress rule must allow: the container port (`http`, 3000) is. The service's
own policy must admit the test pod on every port the test pod's egress allows,
or `helm test` fails in the cluster while every check here passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import pod_labels, service_workloads
from policies.core.docpath import dig, mapping_at
from policies.core.findings import Finding
from policies.core.ruledecl import HARDENED_DEFAULTS, Rule, declare
from policies.render.manifests import Manifest

RULES = declare(
    Rule("security.network-policy", "every pod the chart renders, helm test pods included, is selected by a "
                                    "NetworkPolicy of type Ingress",
         control=HARDENED_DEFAULTS),
    Rule("security.network-policy-ports", "ingress is open only to the ports the Service targets "
                                          "(http, and metrics where metrics are on)",
         control=HARDENED_DEFAULTS),
    Rule("security.network-policy-egress", "a helm hook pod accepts no ingress and reaches only the service's pods on "
                                           "their container ports, and DNS",
         control=HARDENED_DEFAULTS),
    Rule("security.network-policy-admits-test", "the service's NetworkPolicy admits the helm test pod on every port "
                                                "the test pod may reach",
         control=HARDENED_DEFAULTS),
)
DNS_PORT = 53


def label_selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector against labels: {} selects everything; matchExpressions count too."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if not {"In": present and labels.get(key) in values,
                "NotIn": not present or labels.get(key) not in values,
                "Exists": present,
                "DoesNotExist": not present}.get(operator, False):
            return False
    return True


def policy_types(policy: dict[str, Any]) -> list[str]:
    """policyTypes as Kubernetes defaults them: Ingress always, Egress when egress rules exist."""
    spec = mapping_at(policy, "spec")
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if spec.get("egress") else [])]


def port_aliases(workload: Manifest) -> dict[object, set[object]]:
    """Each declared container port, by name and by number, with all the handles that mean the same port."""
    aliases: dict[object, set[object]] = {}
    for container in dig(workload.pod_spec(), "containers") or []:
        for port in container.get("ports") or []:
            same = {port.get("containerPort"), *([port["name"]] if port.get("name") else [])}
            for handle in same:
                aliases.setdefault(handle, set()).update(same)
    return aliases


def served_ports(ctx: CheckContext, workload: Manifest) -> set[object]:
    """Names and numbers of the container ports a Service routes to (all declared ports when no Service)."""
    labels = pod_labels(workload)
    declared = port_aliases(workload)
    services = [s for s in ctx.manifests.of_kind("Service")
                if dig(s.doc, "spec.selector")
                and label_selector_matches({"matchLabels": s.doc["spec"]["selector"]}, labels)]
    if not services:
        return set(declared)
    served: set[object] = set()
    for service in services:
        for port in dig(service.doc, "spec.ports") or []:
            served |= declared.get(port.get("targetPort", port.get("port")), set())
    return served


def _selecting(policies: list[Manifest], workload: Manifest, policy_type: str) -> list[Manifest]:
    labels = pod_labels(workload)
    return [p for p in policies if label_selector_matches(dig(p.doc, "spec.podSelector"), labels)
            and policy_type in policy_types(p.doc)]


def check(ctx: CheckContext) -> Iterator[Finding]:
    policies = ctx.manifests.of_kind("NetworkPolicy")
    services = service_workloads(ctx.manifests)
    for workload in ctx.manifests.workloads(include_hooks=True):
        selecting = _selecting(policies, workload, "Ingress")
        if not selecting:
            yield ctx.fail("security.network-policy", workload, "NetworkPolicy",
                           "no NetworkPolicy restricts ingress to these pods",
                           expected="a policy of type Ingress selecting the pod labels", actual="none",
                           values_key=("networkPolicy", "enabled"))
            continue
        if workload.is_completion_hook:
            yield from _hook_policies(ctx, workload, policies, services)
        elif workload in services:
            allowed = served_ports(ctx, workload)
            shown = ", ".join(sorted(map(str, allowed))) or "none"
            for policy in selecting:
                yield from _ingress_ports(ctx, policy, allowed, shown)


def _ingress_ports(ctx: CheckContext, policy: Manifest, allowed: set[object], shown: str) -> Iterator[Finding]:
    def fail(field: str, message: str, actual: str) -> Finding:
        return ctx.fail("security.network-policy-ports", policy, field, message, expected=f"only ports {shown}",
                        actual=actual, values_key=("networkPolicy",))

    for index, rule in enumerate(dig(policy.doc, "spec.ingress") or []):
        ports = rule.get("ports") or []
        if not ports:
            yield fail(f"spec.ingress[{index}].ports", "an ingress rule opens every port", "all ports")
        for number, port in enumerate(ports):
            where = f"spec.ingress[{index}].ports[{number}]"
            if "port" not in port:
                yield fail(where, "an ingress port entry opens every port", "no port")
            elif port.get("endPort") is not None:
                yield fail(f"{where}.endPort", "an ingress rule opens a port range",
                           f"{port['port']}-{port['endPort']}")
            elif port["port"] not in allowed:
                yield fail(f"{where}.port", f"ingress is open to port {port['port']}, which no Service routes to",
                           str(port["port"]))


def _is_dns(rule: dict[str, Any]) -> bool:
    ports = rule.get("ports") or []
    return bool(ports) and all(p.get("port") == DNS_PORT and p.get("endPort") is None
                               and p.get("protocol", "TCP") in ("UDP", "TCP") for p in ports)


def _service_target(peer: dict[str, Any], services: list[Manifest]) -> Manifest | None:
    """The service workload a peer names by its pod labels (same namespace, no IP block), else None."""
    selector = peer.get("podSelector")
    if set(peer) != {"podSelector"} or not dig(selector, "matchLabels"):
        return None  # a namespace selector, an IP block or an empty selector reaches more than the service
    return next((w for w in services if label_selector_matches(selector, pod_labels(w))), None)


def _hook_policies(ctx: CheckContext, hook: Manifest, policies: list[Manifest], services: list[Manifest]
                   ) -> Iterator[Finding]:
    def fail(policy: Manifest, field: str, message: str, expected: str, actual: str) -> Finding:
        return ctx.fail("security.network-policy-egress", policy, field, message, expected=expected, actual=actual,
                        values_key=("networkPolicy",))

    for policy in _selecting(policies, hook, "Ingress"):
        for index, _ in enumerate(dig(policy.doc, "spec.ingress") or []):
            yield fail(policy, f"spec.ingress[{index}]", "a helm hook pod accepts ingress", "no ingress rule",
                       "an ingress rule")
    egress_policies = _selecting(policies, hook, "Egress")
    if not egress_policies:
        yield fail(hook, "NetworkPolicy", "the helm hook pod's egress is unrestricted",
                   "a policy of type Egress selecting the pod labels", "none")
    reached: list[tuple[Manifest, set[object]]] = []
    for policy in egress_policies:
        for index, rule in enumerate(dig(policy.doc, "spec.egress") or []):
            if _is_dns(rule):
                continue
            peers = rule.get("to") or []
            targets = [_service_target(peer, services) for peer in peers]
            if not peers or None in targets:
                yield fail(policy, f"spec.egress[{index}].to", "a helm hook pod may reach more than the service's pods",
                           "podSelector peers naming the service's pod labels",
                           "any destination" if not peers else "a peer beyond the service's pods")
                continue
            for target in {t.ref: t for t in targets if t}.values():
                aliases = port_aliases(target)
                ports = rule.get("ports") or []
                if not ports:
                    yield fail(policy, f"spec.egress[{index}].ports",
                               "a helm hook pod may reach every port of the service's pods",
                               "the service's container ports", "all ports")
                for number, port in enumerate(ports):
                    if port.get("endPort") is not None or port.get("port") not in aliases:
                        yield fail(policy, f"spec.egress[{index}].ports[{number}]",
                                   f"egress port {port.get('port')} is not a container port of the service (egress "
                                   "is matched after the Service rewrites the address)",
                                   f"one of {', '.join(sorted(map(str, aliases)))}", str(port.get("port")))
                    else:
                        reached.append((target, aliases[port["port"]]))
    yield from _admitted(ctx, hook, policies, reached)


def _admitted(ctx: CheckContext, hook: Manifest, policies: list[Manifest],
              reached: list[tuple[Manifest, set[object]]]) -> Iterator[Finding]:
    labels = pod_labels(hook)
    namespace = dig(hook.doc, "metadata.namespace")
    for target, port in reached:
        selecting = _selecting(policies, target, "Ingress")
        if not any(_admits(rule, labels, namespace, port) for policy in selecting
                   for rule in dig(policy.doc, "spec.ingress") or []):
            shown = "/".join(sorted(map(str, port)))
            yield ctx.fail("security.network-policy-admits-test", selecting[0] if selecting else target, "spec.ingress",
                           f"the service's NetworkPolicy does not admit the helm test pod on port {shown}",
                           expected=f"a rule admitting {hook.ref} on {shown}", actual="none",
                           values_key=("networkPolicy", "ingressFrom"))


def _admits(rule: dict[str, Any], labels: dict[str, str], namespace: str | None, port: set[object]) -> bool:
    ports = rule.get("ports") or []
    if ports and not any(p.get("port") in port or "port" not in p for p in ports):
        return False
    peers = rule.get("from") or []
    return not peers or any(_peer_admits(peer, labels, namespace) for peer in peers)


def _peer_admits(peer: dict[str, Any], labels: dict[str, str], namespace: str | None) -> bool:
    if "ipBlock" in peer or "podSelector" not in peer and "namespaceSelector" not in peer:
        return False  # pod addresses are not known here
    if "namespaceSelector" in peer:
        # Only the automatic name label of the pod's own namespace is known.
        namespace_labels = {"kubernetes.io/metadata.name": namespace} if namespace else {}
        if not label_selector_matches(peer["namespaceSelector"], namespace_labels):
            return False
    return label_selector_matches(peer.get("podSelector"), labels)
