"""Rule-test helpers: start from a real render that passes, change one field, check again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from policies.budget import Budget
from policies.context import CheckContext
from policies.findings import Finding
from policies.manifests import Manifest, ManifestIndex
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
