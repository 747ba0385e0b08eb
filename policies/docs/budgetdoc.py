"""docs/budget.md, generated from policies/budget.yaml so the document cannot drift from the data.

Written by `python -m policies docs` (`make docs`; --check: exit 1 when docs/budget.md is stale).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies import REPO_ROOT
from policies.catalogue import rule_catalogue
from policies.checks.review import next_review
from policies.checks.rules.guard import budget_quota_plan
from policies.core.atomic import sync_generated
from policies.core.ruleclass import BUDGET, SAFETY
from policies.inputs.budget import Budget, load_budget
from policies.render.render import Render, render_environment

DOC_PATH = REPO_ROOT / "docs" / "budget.md"


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _rows(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if key == "section":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(not isinstance(v, dict) for v in value.values()) \
                and len(value) <= 2 and "section" not in value:
            rows.append((name, ", ".join(f"{k} {_scalar(v)}" for k, v in value.items())))
        elif isinstance(value, dict):
            rows.extend(_rows(value, f"{name}."))
        else:
            rows.append((name, _scalar(value)))
    return rows


def _targets(spec: dict[str, Any], previous: str | None) -> list[str]:
    targets = []
    if "imageSizeReductionPercent" in spec:
        percent = spec["imageSizeReductionPercent"]
        targets.append(f"image at most {100 - percent:g} % of the image size recorded when phase {previous} started "
                       f"(reduce by {percent:g} %; `pipeline.phase-target`, a warning while this phase is next)")
    if "loadP95Milliseconds" in spec:
        targets.append(f"P95 under load < {spec['loadP95Milliseconds']:g} ms (`helm test` load mode; a warning "
                       "before this phase)")
    return targets


def phase_targets(budget: Budget) -> list[str]:
    """Each phase's mode, start and targets, in phase order."""
    lines = ["## Phase targets", "", "| phase | mode | started | targets |", "|---|---|---|---|"]
    previous = None
    for name, spec in budget["phase"]["phases"].items():
        marker = " (in force)" if name == budget.phase else ""
        targets = "; ".join(_targets(spec, previous)) or "-"
        lines.append(f"| {name}{marker} | {spec['mode']} | {spec.get('started', '-')} | {targets} |")
        previous = name
    return [*lines, ""]


def guard_arithmetic(budget: Budget, render_of: Callable[[str], Render] = render_environment) -> dict[str, list[str]]:
    """Each guarded environment's ResourceQuota arithmetic, from its render (helm) and the budget; `render_of`
    renders an environment (the tests pass their session's renders, the same helm call made once)."""
    arithmetic = {}
    for environment in budget.environments:
        if budget.environment(environment).get("admissionGuards"):
            render = render_of(environment)
            arithmetic[environment] = budget_quota_plan(render.manifests, budget, environment).explain()
    return arithmetic


def guard_section(budget: Budget, arithmetic: dict[str, list[str]]) -> list[str]:
    lines = [
        "## Namespace guards",
        "",
        "Where `admissionGuards` is true the chart renders a LimitRange (container and pod `max` and container "
        "`default` = the per-pod limits, `defaultRequest` = the per-pod requests) and a ResourceQuota sized for "
        "the worst legitimate moment: a rollout at maximum scale, the old pods it has replaced that still count "
        "against quota until their grace period ends, and the helm test pod at its own resources. The Deployment "
        "controller does not count terminating pods against `maxSurge`, so it keeps replacing while earlier pods "
        "shut down; a replacement step takes at least `minReadySeconds` plus the probes' initial delay (not the "
        f"{budget['rollout']['podReplacementSeconds']} s replacement budget, an upper bound that would undercount), "
        "so one grace period overlaps floor(grace / step) + 1 steps, never more than the old pods "
        "(`policies/checks/guardsizing.py`). Computed from each environment's render:",
        "",
    ]
    for environment, explanation in arithmetic.items():
        lines += [f"### {environment}", "", "```", *explanation, "```", ""]
    return lines


def generate(budget: Budget, arithmetic: dict[str, list[str]] | None = None) -> str:
    """The document; `arithmetic` (guard_arithmetic's output) is computed, with helm, when not given."""
    data = budget.data
    if arithmetic is None:
        arithmetic = guard_arithmetic(budget)
    lines = [
        "# Performance budget",
        "",
        "<!-- Generated from policies/budget.yaml by `python -m policies docs`; do not edit. -->",
        "",
        f"Source: `{data['spec']['document']}` ({data['spec']['title']}).",
        f"Phase in force: **{budget.phase}** — mode **{budget.mode}**, "
        f"started {budget.phase_started() or 'on a day not recorded'}.",
        f"Last reviewed: {budget.reviewed}; next review due: **{next_review(budget)}** "
        f"(every {data['review']['everyMonths']} month(s) and when a phase starts; `budget.review-due`).",
        "",
    ]
    for key, value in data.items():
        if key in ("spec",) or not isinstance(value, dict):
            continue
        section = value.get("section", key)
        lines += [f"## {key}", "", f"Spec section: {section}", "", "| setting | value |", "|---|---|"]
        lines += [f"| `{name}` | {text} |" for name, text in _rows(value)]
        lines.append("")
    lines += phase_targets(budget)
    lines += guard_section(budget, arithmetic)
    lines += [
        "## Rules",
        "",
        f"Class **{BUDGET}**: the performance budget's own rules; the phase decides whether their failures fail "
        "the run (in a warn phase they are reported as warnings).",
        f"Class **{SAFETY}**: correctness and safety rules; their failures fail the run in every phase.",
        "",
        "Severity: what a violation reports before the phase and waivers (a tiered figure also warns below its "
        "failure tier). Implements: the section of the performance budget, or the control outside it.",
        "",
        "| rule | class | severity | checks | implements |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{rule.id}` | {rule.rule_class} | {rule.severity.value} | {rule.summary} | {rule.implements} |"
              for rule in sorted(rule_catalogue().values(), key=lambda r: r.id)]
    return "\n".join(lines) + "\n"


def sync(check: bool = False) -> int:
    """Rewrite the generated file (check: only report whether the committed one is stale; 1 when it is)."""
    budget = load_budget()
    document = generate(budget, guard_arithmetic(budget))
    return sync_generated(DOC_PATH, document, check, str(DOC_PATH.relative_to(REPO_ROOT)))
