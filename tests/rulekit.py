"""Rule-test helpers: start from a real render that passes, change one field, check again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from policies import CHART_DIR
from policies.budget import Budget
from policies.context import CheckContext
from policies.engine import locate
from policies.findings import Finding
from policies.manifests import Manifest, ManifestIndex, parse_manifests
from policies.render import Render

Check = Callable[[CheckContext], Iterable[Finding]]


def editable_docs(render: Render) -> list[dict[str, Any]]:
    return render.manifests.docs()


def find_doc(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and "helm.sh/hook" not in
               (d["metadata"].get("annotations") or {})]
    assert matches, f"no {kind} among {[d['kind'] for d in docs]}"
    return matches[0]


def app_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return find_doc(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def run_rule(check: Check, docs: list[dict[str, Any]], environment: str, budget: Budget) -> list[Finding]:
    index = ManifestIndex(Manifest(d) for d in docs)
    return list(check(CheckContext(environment, budget, index)))


def rule_ids(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


def run_rule_on_file(check: Check, docs: list[dict[str, Any]], environment: str, budget: Budget,
                     path: Path) -> list[Finding]:
    """Run a rule as `check --manifests` would: docs written to `path`, findings located in it."""
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    ctx = CheckContext(environment, budget, ManifestIndex(parse_manifests(path.read_text(encoding="utf-8"),
                                                                          origin=path)))
    return [locate(finding, ctx, CHART_DIR) for finding in check(ctx)]


FindingTuple = tuple[str, str | None, str | None, str | None, int | None]


def finding_tuples(findings: Iterable[Finding]) -> list[FindingTuple]:
    """What rule tests compare: every finding's (rule, resource, field, file, line), in order."""
    return [(f.rule, f.resource, f.field, f.file, f.line) for f in findings]


def line_of(path: Path, text: str, after: int = 0) -> int:
    """1-based number of the first line at or after line `after` that contains `text`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number >= after and text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path} after line {after}")


def unguarded(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The render without its namespace guards. An over-budget pod is also refused by the LimitRange and the
    ResourceQuota (guard.* safety findings); tests about judging one budget finding drop the guards, and run
    with a budget whose environment asks for none (builders.budget_with(env, admissionGuards=False))."""
    return [doc for doc in docs if doc["kind"] not in ("LimitRange", "ResourceQuota")]
