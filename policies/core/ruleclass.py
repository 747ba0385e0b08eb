"""Rule classes: which rules the budget phase governs.

The performance budget's own rules (resources, rollout, probes, timing,
metrics, pipeline, regression) are `budget` rules: in a warn phase their
failures are reported as warnings. Everything else is a `safety` rule
(Kubernetes schema, helm errors, chart metadata, security, secrets, drift,
waivers, ...): a broken or unsafe object fails in every phase.

A family's class is declared once here; a rule's declaration may override it
(`Rule(..., rule_class=...)`, policies/core/ruledecl.py). A family missing
from this table is `safety`: a new rule fails closed until someone decides
otherwise.
"""

from __future__ import annotations

BUDGET = "budget"
SAFETY = "safety"
CLASSES = (BUDGET, SAFETY)

# Rule id prefix (the part before the first dot) -> class.
FAMILY_CLASSES: dict[str, str] = {
    "resources": BUDGET,
    "rollout": BUDGET,
    "probes": BUDGET,
    "timing": BUDGET,
    "metrics": BUDGET,
    "pipeline": BUDGET,
    "regression": BUDGET,
    "budget": BUDGET,
    "schema": SAFETY,
    "values": SAFETY,
    "helm": SAFETY,
    "chart": SAFETY,
    "pod": SAFETY,
    "security": SAFETY,
    "pss": SAFETY,
    "secrets": SAFETY,
    "drift": SAFETY,
    "waiver": SAFETY,
    "rbac": SAFETY,
    "psa": SAFETY,
}


def family_class(rule: str) -> str:
    """The class a rule gets from its family (the id's first segment); unknown families are safety."""
    return FAMILY_CLASSES.get(rule.split(".", 1)[0], SAFETY)
