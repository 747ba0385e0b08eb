"""Budget policies: small pure functions over parsed manifests plus the budget.

Each module declares its RULES (policies/core/ruledecl.py; collected into the one
catalogue by policies/catalogue.py) and a `check(ctx)` that yields Findings.
A policy never runs helm and never decides pass/fail.
"""

from __future__ import annotations

from types import ModuleType

from policies.checks.context import CheckContext
from policies.checks.rules import (
    ephemeral,
    guard,
    metrics,
    network,
    pod_security,
    pod_template,
    probes,
    rbac,
    resources,
    rollout,
    secrets,
    security,
    timing,
    values,
)
from policies.core.findings import Finding

FAMILIES: tuple[ModuleType, ...] = (resources, rollout, probes, timing, metrics, ephemeral, pod_template, pod_security,
                                    security, network, rbac, secrets, values, guard)


def run_all(ctx: CheckContext) -> list[Finding]:
    findings: list[Finding] = []
    for family in FAMILIES:
        findings.extend(family.check(ctx))
    return findings
