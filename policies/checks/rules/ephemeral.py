"""Ephemeral containers are for `kubectl debug` on a running pod; the API server rejects them anywhere else.

The strict Kubernetes schema accepts the field in a pod template (it is part of PodSpec), so only an explicit
rule stops a render that can never be applied.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.checks.context import CheckContext
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare

RULE = "pod.ephemeral-containers"
RULES = declare(
    Rule(RULE, "no ephemeralContainers in a pod template or a Pod manifest (the API server rejects them)",
         control="Kubernetes API: ephemeralContainers are added through the ephemeralcontainers subresource only")
)
# The API server's own words (ValidatePodTemplateSpec, and ValidatePodCreate for a bare Pod).
TEMPLATE_REASON = "ephemeral containers not allowed in pod template"
POD_REASON = "cannot be set on create"


def check(ctx: CheckContext) -> Iterator[Finding]:
    for manifest in ctx.manifests.workloads(include_hooks=True):
        pod = manifest.pod_spec() or {}
        ephemeral = pod.get("ephemeralContainers")
        if not ephemeral:
            continue
        field = f"{manifest.pod_spec_path()}.ephemeralContainers"
        reason = POD_REASON if manifest.kind == "Pod" else TEMPLATE_REASON
        names = ", ".join(str(c.get("name", "?")) for c in ephemeral if isinstance(c, dict)) or "?"
        yield ctx.fail(RULE, manifest, field, f"the API server rejects this object: {field}: Forbidden: {reason}",
                       expected="absent", actual=names)
