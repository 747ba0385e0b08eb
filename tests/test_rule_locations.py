"""Every rule finding in a manifests file names the exact line of its field, checked independently.

Each violation of the budget rule tests is written to a file as `check
--manifests` reads it, and the full list of (rule, resource, field, file, line)
is compared with lines found another way: the field's value (or, when the field
is not written, its deepest written parent) is replaced by a marker, the
documents dumped again, and the marker's line taken. The key line and all before
it do not move, so a finding pointing anywhere else fails.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rulekit import editable_docs, finding_tuples, run_rule_on_file
from test_rules_budget import VIOLATIONS

from policies.budget import Budget
from policies.findings import Finding
from policies.manifests import _steps
from policies.paths import display_path
from policies.render import Render

MARKER = "LOCATED-HERE"


def _ref(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind', '')}/{(doc.get('metadata') or {}).get('name', '')}"


def _written_path(doc: Any, field: str | None) -> list[Any]:
    """The steps of `field` that exist in the document, resolved to keys and indexes."""
    path: list[Any] = []
    for step in _steps(field or ""):
        if isinstance(step, tuple):
            items = doc if isinstance(doc, list) else []
            index = next((i for i, item in enumerate(items) if isinstance(item, dict)
                          and item.get(step[0]) == step[1]), None)
            if index is None:
                break
            step = index
        if isinstance(doc, dict) and step in doc or isinstance(doc, list) and isinstance(step, int) and \
                0 <= step < len(doc):
            doc = doc[step]
            path.append(step)
        else:
            break
    return path


def expected_line(docs: list[dict[str, Any]], finding: Finding) -> int:
    index = next(i for i, doc in enumerate(docs) if _ref(doc) == finding.resource)
    path = _written_path(docs[index], finding.field)
    if not path:  # the document itself: its first line
        before = yaml.safe_dump_all(docs[:index], sort_keys=False) if index else ""
        return len(before.splitlines()) + (2 if index else 1)
    marked = copy.deepcopy(docs)
    node = marked[index]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = MARKER
    text = yaml.safe_dump_all(marked, sort_keys=False)
    return next(n for n, line in enumerate(text.splitlines(), start=1) if MARKER in line)


@pytest.mark.parametrize(("family", "environment", "mutate", "expected_rule"),
                         [pytest.param(*case[1:], id=case[0]) for case in VIOLATIONS])
def test_should_point_every_finding_at_its_field_line(
    family: Any, environment: str, mutate: Callable[[list[dict[str, Any]]], None], expected_rule: str,
    render_env: Callable[[str], Render], budget: Budget, tmp_path: Path
) -> None:
    docs = editable_docs(render_env(environment))
    mutate(docs)
    path = tmp_path / "rendered.yaml"

    findings = run_rule_on_file(family.check, docs, environment, budget, path)

    assert expected_rule in {f.rule for f in findings}
    assert finding_tuples(findings) == [
        (f.rule, f.resource, f.field, display_path(path), expected_line(docs, f)) for f in findings]
