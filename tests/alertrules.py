"""The chart's PrometheusRule alerts as data: expressions parsed by a real PromQL parser.

Shared by the alert-rule tests and the budget-equality tests, so both read a
threshold the same way: the number an alert's expression compares against, or
its `for:` duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import promql_parser

from policies.render.manifests import ManifestIndex

COMPARISONS = frozenset({">", ">=", "<", "<=", "==", "!="})


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    duration: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def alerts_of(manifests: ManifestIndex) -> list[Alert]:
    """Every alerting rule of every PrometheusRule in a render."""
    alerts = []
    for rule_doc in manifests.of_kind("PrometheusRule"):
        for group in (rule_doc.doc.get("spec") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" in rule:
                    alerts.append(Alert(str(rule["alert"]), str(rule.get("expr", "")), rule.get("for"),
                                        rule.get("labels") or {}, rule.get("annotations") or {}))
    return alerts


def syntax_errors(alerts: list[Alert]) -> list[str]:
    """`alert Name: parser message` for each expression the PromQL parser rejects."""
    errors = []
    for alert in alerts:
        try:
            promql_parser.parse(alert.expr)
        except ValueError as exc:
            errors.append(f"alert {alert.name}: {exc} in {alert.expr!r}")
    return errors


def threshold(alert: Alert) -> float | None:
    """The number the expression's outermost comparison tests against, else None."""
    expr: Any = promql_parser.parse(alert.expr)
    while isinstance(expr, promql_parser.ParenExpr):
        expr = expr.expr
    if not isinstance(expr, promql_parser.BinaryExpr) or str(expr.op) not in COMPARISONS:
        return None
    for side in (expr.rhs, expr.lhs):
        if isinstance(side, promql_parser.NumberLiteral):
            return float(side.val)
    return None


def duration_seconds(alert: Alert) -> float | None:
    """The alert's `for:` as seconds, else None."""
    if alert.duration is None:
        return None
    return promql_parser.parse_duration(str(alert.duration)).total_seconds()


def _children(expr: Any) -> list[Any]:
    if isinstance(expr, promql_parser.BinaryExpr):
        return [expr.lhs, expr.rhs]
    if isinstance(expr, promql_parser.Call):
        return list(expr.args)
    if isinstance(expr, promql_parser.MatrixSelector):
        return [expr.vector_selector]
    if isinstance(expr, promql_parser.AggregateExpr | promql_parser.ParenExpr | promql_parser.SubqueryExpr
                  | promql_parser.UnaryExpr):
        return [expr.expr]
    return []


def selectors(expr: Any) -> list[Any]:
    """Every vector selector in a parsed expression."""
    if isinstance(expr, promql_parser.VectorSelector):
        return [expr]
    return [found for child in _children(expr) for found in selectors(child)]


def matcher_names(selector: Any) -> set[str]:
    return {matcher.name for matcher in selector.matchers.matchers}


def output_labels(expr: Any) -> frozenset[str] | None:
    """The labels an expression's result series keep; None when that is every input label."""
    if isinstance(expr, promql_parser.AggregateExpr):
        modifier = expr.modifier
        if modifier is not None and modifier.type == promql_parser.AggModifierType.By:
            return frozenset(modifier.labels)
        return None if modifier is not None else frozenset()
    if isinstance(expr, promql_parser.BinaryExpr):
        # A comparison or arithmetic with a number keeps the vector side's labels;
        # vector-to-vector matching (one-to-one) keeps the left side's.
        side = expr.rhs if isinstance(expr.lhs, promql_parser.NumberLiteral) else expr.lhs
        return output_labels(side)
    if isinstance(expr, promql_parser.Call):
        literals = promql_parser.NumberLiteral | promql_parser.StringLiteral
        vectors = [arg for arg in expr.args if not isinstance(arg, literals)]
        labels = output_labels(vectors[0]) if vectors else frozenset()
        if expr.func.name == "histogram_quantile" and labels is not None:
            return labels - {"le"}
        return labels
    if isinstance(expr, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return output_labels(expr.expr)
    if isinstance(expr, promql_parser.MatrixSelector):
        return output_labels(expr.vector_selector)
    return None
