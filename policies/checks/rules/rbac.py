"""RBAC in a render or in --manifests input: no broad roles, no secret reads, no escalation paths.

The chart renders no RBAC (the server does not call the Kubernetes API; a test
keeps it so), so these rules matter for --manifests input and for the day a
template adds a Role. Matching follows the RBAC authorizer: verbs and resources
match exactly or through `*`; `*/exec` matches every resource's exec
subresource; the core API group is "".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

# The control every rule below implements.
RBAC_PRACTICES = "Kubernetes RBAC good practices"
RULES = declare(
    Rule("rbac.privileged-binding", "no RoleBinding or ClusterRoleBinding grants the cluster-admin, admin or edit "
                                    "ClusterRole", control=RBAC_PRACTICES),
    Rule("rbac.wildcard", "Role and ClusterRole rules name their verbs, resources and apiGroups (no `*`)",
         control=RBAC_PRACTICES),
    Rule("rbac.secrets-read", "no rule grants get, list or watch on Secrets", control=RBAC_PRACTICES),
    Rule("rbac.pod-exec", "no rule grants create (or get, which the WebSocket exec path authorizes) on pods/exec",
         control=RBAC_PRACTICES),
    Rule("rbac.escalation-verbs", "no rule grants the escalate, bind or impersonate verbs",
         control=RBAC_PRACTICES),
)
PRIVILEGED_CLUSTER_ROLES = ("cluster-admin", "admin", "edit")
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
SECRET_READ_VERBS = ("get", "list", "watch")
# An exec over WebSockets is an HTTP GET, authorized as `get` on pods/exec (kubernetes/kubernetes#78741,
# #133515; only the 1.35 gate AuthorizePodWebsocketUpgradeCreatePermission also demands `create`).
EXEC_VERBS = ("create", "get")
ESCALATION_VERBS = ("escalate", "bind", "impersonate")


def check(ctx: CheckContext) -> Iterator[Finding]:
    for manifest in ctx.manifests:
        if manifest.kind in BINDING_KINDS:
            yield from _binding(ctx, manifest)
        elif manifest.kind in ROLE_KINDS:
            for index, rule in enumerate(manifest.doc.get("rules") or []):
                if isinstance(rule, dict):
                    yield from _rule(ctx, manifest, index, rule)


def _binding(ctx: CheckContext, manifest: Manifest) -> Iterator[Finding]:
    role_ref = manifest.doc.get("roleRef") or {}
    if role_ref.get("kind") == "ClusterRole" and role_ref.get("name") in PRIVILEGED_CLUSTER_ROLES:
        yield ctx.fail("rbac.privileged-binding", manifest, "roleRef.name",
                       f"the binding grants the {role_ref['name']} ClusterRole to {_subjects(manifest.doc)}",
                       expected="a Role with only the permissions the workload needs", actual=str(role_ref["name"]))


def _subjects(binding: dict[str, Any]) -> str:
    names = [f"{s.get('kind', '?')}/{s.get('name', '?')}" for s in binding.get("subjects") or []
             if isinstance(s, dict)]
    return ", ".join(names) or "no subject"


def _strings(rule: dict[str, Any], key: str) -> list[str]:
    return [str(item) for item in rule.get(key) or []]


def _rule(ctx: CheckContext, manifest: Manifest, index: int, rule: dict[str, Any]) -> Iterator[Finding]:
    where = f"rules[{index}]"
    verbs, resources, groups = _strings(rule, "verbs"), _strings(rule, "resources"), _strings(rule, "apiGroups")
    for key, values in (("verbs", verbs), ("resources", resources), ("apiGroups", groups)):
        if "*" in values:
            yield ctx.fail("rbac.wildcard", manifest, f"{where}.{key}", f"the rule grants every {key[:-1]} (`*`)",
                           expected=f"the {key} the workload needs, by name", actual=", ".join(values))
    core = "" in groups or "*" in groups

    def grants(wanted: tuple[str, ...]) -> list[str]:
        return [verb for verb in verbs if verb in wanted or verb == "*"]

    read = grants(SECRET_READ_VERBS)
    if core and read and ("secrets" in resources or "*" in resources):
        yield ctx.fail("rbac.secrets-read", manifest, f"{where}.resources", f"the rule can {', '.join(read)} Secrets",
                       expected="no get, list or watch on secrets", actual=", ".join(resources))
    execute = grants(EXEC_VERBS)
    if core and execute and any(r in ("pods/exec", "*/exec", "*") for r in resources):
        yield ctx.fail("rbac.pod-exec", manifest, f"{where}.resources", "the rule can exec into pods",
                       expected=f"no {' or '.join(EXEC_VERBS)} on pods/exec", actual=", ".join(resources))
    escalation = [verb for verb in verbs if verb in ESCALATION_VERBS]
    if escalation:
        yield ctx.fail("rbac.escalation-verbs", manifest, f"{where}.verbs", f"the rule grants {', '.join(escalation)}",
                       expected="none of escalate, bind, impersonate", actual=", ".join(verbs))
