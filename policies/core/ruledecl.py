"""A rule's declaration: what each module that emits findings says about its rule ids.

A module declares its rules once, next to the code that emits them:

    RULES = declare(
        Rule("probes.period", "liveness and readiness periodSeconds stay within the budget's probe interval",
             spec="Runtime Performance Targets / Health Endpoints"),
    )

`spec` names the section of the performance budget (docs/budget.md, the spec
in /work/shared/spec) a rule implements; `control` names what else it
implements when the spec does not ask for it (a Pod Security Standards control,
a Kubernetes API constraint, a project decision). Exactly one of the two.

policies/catalogue.py collects every module's RULES into the one catalogue the
engine, the reports, the docs and the waiver validation read. This module
imports nothing above the findings, so any stage can declare rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.core.findings import Severity
from policies.core.ruleclass import CLASSES, family_class

# The control of the rules that keep the chart's own hardened defaults (network policies, security contexts),
# which no spec section or outside standard asks for.
HARDENED_DEFAULTS = "project hardened defaults (docs: STYLE.md chart habits)"


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    spec: str = ""  # the performance budget section the rule implements
    control: str = ""  # or the control outside the spec it implements
    # The severity of a violation before phase and waivers; a tiered rule (a warning tier under its
    # failure tier) is declared with its failure severity.
    severity: Severity = Severity.FAILURE
    # budget or safety (policies/core/ruleclass.py); None: the family's class.
    rule_class: str | None = None

    def __post_init__(self) -> None:
        if bool(self.spec) == bool(self.control):
            raise ValueError(f"rule {self.id}: declare exactly one of spec= (a budget section) or control=")
        if "." not in self.id:
            raise ValueError(f"rule {self.id}: ids are <family>.<name>")
        if self.rule_class is None:
            object.__setattr__(self, "rule_class", family_class(self.id))
        if self.rule_class not in CLASSES:
            raise ValueError(f"rule {self.id}: class {self.rule_class!r} is not one of {CLASSES}")

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def implements(self) -> str:
        return f"spec: {self.spec}" if self.spec else self.control


def declare(*rules: Rule) -> dict[str, Rule]:
    """A module's RULES: its declarations by id (an id declared twice is a programming error)."""
    declared: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in declared:
            raise ValueError(f"rule {rule.id} is declared twice")
        declared[rule.id] = rule
    return declared
