"""Budget policies: small pure functions over parsed manifests plus the budget.

Each module declares RULES (stable id -> one-line summary) and a `check(ctx)`
that yields Findings. A policy never runs helm and never decides pass/fail.
A rule's class (budget or safety, policies/ruleclass.py) comes from its family
unless its module overrides it in RULE_CLASSES.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from policies.context import CheckContext
from policies.findings import Finding
from policies.ruleclass import family_class
from policies.rules import (
    ephemeral,
    guard,
    metrics,
    network,
    pod_security,
    probes,
    rbac,
    resources,
    rollout,
    secrets,
    security,
    timing,
    values,
)

FAMILIES: tuple[ModuleType, ...] = (resources, rollout, probes, timing, metrics, ephemeral, pod_security, security,
                                    network, rbac, secrets, values, guard)

Check = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    rule_class: str  # policies.ruleclass.BUDGET or SAFETY


def _modules() -> tuple[ModuleType, ...]:
    # Stages outside the policy families (imported here: they import the engine's pieces).
    from policies import baseline, chartmeta, drift, kubeschema, phasetarget, pipeline, review, timing, waivers

    return (*FAMILIES, chartmeta, kubeschema, drift, timing, pipeline, phasetarget, baseline, review, waivers)


@cache
def rule_catalogue() -> dict[str, Rule]:
    """Every rule id the engine can emit, with its summary and class."""
    catalogue: dict[str, Rule] = {}
    for module in _modules():
        overrides = getattr(module, "RULE_CLASSES", {})
        for rule, summary in module.RULES.items():
            catalogue[rule] = Rule(rule, summary, overrides.get(rule) or family_class(rule))
    return catalogue


def rule_summaries() -> dict[str, str]:
    """Every rule id the engine can emit, with its summary."""
    return {rule: entry.summary for rule, entry in rule_catalogue().items()}


def rule_class(rule: str) -> str:
    """The class of a rule id; an id missing from the catalogue falls back to its family (else safety)."""
    entry = rule_catalogue().get(rule)
    return entry.rule_class if entry else family_class(rule)


def run_all(ctx: CheckContext) -> list[Finding]:
    findings: list[Finding] = []
    for family in FAMILIES:
        findings.extend(family.check(ctx))
    return findings
