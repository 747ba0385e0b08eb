"""The rule catalogue: every rule id the harness can emit, collected from the modules that emit it.

Each module declares its rules once, next to the code that emits them
(`RULES = declare(Rule(...), ...)`, policies/core/ruledecl.py); this module only
lists those modules. The engine (rule classes), the waiver validation, JUnit
and docs/budget.md read the catalogue and nothing else. In the tests
(tests/catalogue_coverage.py) a test fails when harness code emits an id missing
here, and a full run fails when a catalogued id is emitted by no test.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from policies.checks import baseline, chartmeta, drift, kubeschema, phasetarget, pipeline, review, timing
from policies.checks.rules import FAMILIES
from policies.core.ruleclass import family_class
from policies.core.ruledecl import Rule
from policies.judging import waivers

# The policy families first (their order is the order of JUnit's testcases), then the other stages.
EMITTERS: tuple[ModuleType, ...] = (*FAMILIES, chartmeta, kubeschema, drift, timing, pipeline, phasetarget,
                                    baseline, review, waivers)


def collect(modules: Iterable[ModuleType]) -> dict[str, Rule]:
    """Every module's RULES in one dict; an id declared by two modules, or not as a Rule, is a programming error."""
    catalogue: dict[str, Rule] = {}
    owners: dict[str, str] = {}
    for module in modules:
        if hasattr(module, "RULE_CLASSES"):
            raise TypeError(f"{module.__name__}.RULE_CLASSES: declare a rule's class in its Rule(..., rule_class=...)")
        for rule_id, rule in module.RULES.items():
            if not isinstance(rule, Rule) or rule.id != rule_id:
                raise TypeError(f"{module.__name__}.RULES[{rule_id!r}]: declare rules with "
                                "policies.core.ruledecl.declare(Rule(...))")
            if rule_id in catalogue:
                raise ValueError(f"rule {rule_id} is declared in {owners[rule_id]} and in {module.__name__}")
            catalogue[rule_id], owners[rule_id] = rule, module.__name__
    return catalogue


CATALOGUE: dict[str, Rule] = collect(EMITTERS)


def rule_catalogue() -> dict[str, Rule]:
    """Every rule id the harness can emit, with its declaration."""
    return CATALOGUE


def rule_summaries() -> dict[str, str]:
    """Every rule id the harness can emit, with its summary."""
    return {rule: entry.summary for rule, entry in CATALOGUE.items()}


def rule_class(rule: str) -> str:
    """The class of a rule id; an id missing from the catalogue falls back to its family (else safety)."""
    entry = CATALOGUE.get(rule)
    return entry.rule_class if entry and entry.rule_class else family_class(rule)
