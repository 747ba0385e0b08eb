"""Budget policies: small pure functions over parsed manifests plus the budget.

Each module declares RULES (stable id -> one-line summary) and a `check(ctx)`
that yields Findings. A policy never runs helm and never decides pass/fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

from policies.context import CheckContext
from policies.findings import Finding
from policies.rules import metrics, probes, resources, rollout, secrets, security, timing

FAMILIES: tuple[ModuleType, ...] = (resources, rollout, probes, timing, metrics, security, secrets)

Check = Callable[[CheckContext], Iterable[Finding]]


def rule_summaries() -> dict[str, str]:
    """Every rule id the engine can emit, with its summary."""
    # Stages outside the policy families (imported here: they import the engine's pieces).
    from policies import baseline, chartmeta, drift, kubeschema, phasetarget, pipeline, review, timing, waivers

    summaries: dict[str, str] = {}
    for family in (*FAMILIES, chartmeta, kubeschema, drift, timing, pipeline, phasetarget, baseline, review,
                   waivers):
        summaries.update(family.RULES)
    return summaries


def run_all(ctx: CheckContext) -> list[Finding]:
    findings: list[Finding] = []
    for family in FAMILIES:
        findings.extend(family.check(ctx))
    return findings
