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
from policies.core.findings import Finding, failure
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import Manifest

RULES = declare(
    Rule("rbac.privileged-binding", "no RoleBinding or ClusterRoleBinding grants the cluster-admin, admin or edit "
                                    "ClusterRole", control="Kubernetes RBAC good practices"),
    Rule("rbac.wildcard", "Role and ClusterRole rules name their verbs, resources and apiGroups (no `*`)",
         control="Kubernetes RBAC good practices"),
    Rule("rbac.secrets-read", "no rule grants get, list or watch on Secrets", control="Kubernetes RBAC good practices"),
    Rule("rbac.pod-exec", "no rule grants create (or get, which the WebSocket exec path authorizes) on pods/exec",
         control="Kubernetes RBAC good practices"),
    Rule("rbac.escalation-verbs", "no rule grants the escalate, bind or impersonate verbs",
         control="Kubernetes RBAC good practices"),
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


def _fail(ctx: CheckContext, manifest: Manifest, rule: str, message: str, field: str, expected: str,
          actual: object) -> Finding:
    return failure(rule, message, field=field, expected=expected, actual=str(actual), environment=ctx.environment,
                   resource=manifest.ref, source=manifest.source)


def _binding(ctx: CheckContext, manifest: Manifest) -> Iterator[Finding]:
    role_ref = manifest.doc.get("roleRef") or {}
    if role_ref.get("kind") == "ClusterRole" and role_ref.get("name") in PRIVILEGED_CLUSTER_ROLES:
        yield _fail(ctx, manifest, "rbac.privileged-binding",
                    f"the binding grants the {role_ref['name']} ClusterRole to {_subjects(manifest.doc)}",
                    "roleRef.name", "a Role with only the permissions the workload needs", role_ref["name"])


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
            yield _fail(ctx, manifest, "rbac.wildcard", f"the rule grants every {key[:-1]} (`*`)",
                        f"{where}.{key}", f"the {key} the workload needs, by name", ", ".join(values))
    core = "" in groups or "*" in groups

    def grants(wanted: tuple[str, ...]) -> list[str]:
        return [verb for verb in verbs if verb in wanted or verb == "*"]

    read = grants(SECRET_READ_VERBS)
    if core and read and ("secrets" in resources or "*" in resources):
        yield _fail(ctx, manifest, "rbac.secrets-read", f"the rule can {', '.join(read)} Secrets",
                    f"{where}.resources", "no get, list or watch on secrets", ", ".join(resources))
    execute = grants(EXEC_VERBS)
    if core and execute and any(r in ("pods/exec", "*/exec", "*") for r in resources):
        yield _fail(ctx, manifest, "rbac.pod-exec", "the rule can exec into pods", f"{where}.resources",
                    f"no {' or '.join(EXEC_VERBS)} on pods/exec", ", ".join(resources))
    escalation = [verb for verb in verbs if verb in ESCALATION_VERBS]
    if escalation:
        yield _fail(ctx, manifest, "rbac.escalation-verbs", f"the rule grants {', '.join(escalation)}",
                    f"{where}.verbs", "none of escalate, bind, impersonate", ", ".join(verbs))
