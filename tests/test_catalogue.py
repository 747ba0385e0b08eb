"""The rule catalogue: every rule id declared once, next to its code, and read by everything that names rules."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import catalogue_coverage
import pytest

from policies import REPO_ROOT
from policies.catalogue import CATALOGUE, EMITTERS, collect, rule_class
from policies.core.findings import failure
from policies.core.ruleclass import SAFETY
from policies.core.ruledecl import Rule, declare
from policies.docs.budgetdoc import generate, guard_arithmetic
from policies.inputs.budget import load_budget

SPEC = REPO_ROOT.parent / "shared" / "spec" / "performance-budget.md"


def spec_sections() -> set[str]:
    """`Section / Subsection` for every `###` heading of the spec, and `Section` for every `##` one."""
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside the repository ({SPEC})")
    sections, current = set(), ""
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections.add(current)
        elif line.startswith("### "):
            sections.add(f"{current} / {line[4:].strip()}")
    return sections


def test_should_collect_every_emitting_modules_rules_in_one_catalogue():
    assert len(CATALOGUE) == sum(len(module.RULES) for module in EMITTERS)
    assert all(isinstance(rule, Rule) and rule.id == rule_id for rule_id, rule in CATALOGUE.items())


@pytest.mark.parametrize("rule", [r for r in CATALOGUE.values() if r.spec], ids=lambda r: r.id)
def test_should_name_a_section_the_spec_has(rule: Rule):
    assert rule.spec in spec_sections()


def test_should_refuse_a_rule_declared_by_two_modules():
    first = SimpleNamespace(__name__="policies.first", RULES=declare(Rule("x.y", "one", control="c")))
    second = SimpleNamespace(__name__="policies.second", RULES=declare(Rule("x.y", "two", control="c")))
    with pytest.raises(ValueError, match="x.y is declared in policies.first and in policies.second"):
        collect([first, second])


def test_should_refuse_a_rule_declared_as_a_bare_summary():
    old_style = SimpleNamespace(__name__="policies.old", RULES={"x.y": "a summary"})
    with pytest.raises(TypeError, match=r"policies.old.RULES\['x.y'\]: declare rules with"):
        collect([old_style])


def test_should_refuse_classes_declared_apart_from_the_rules():
    apart = SimpleNamespace(__name__="policies.apart", RULES=declare(Rule("x.y", "one", control="c")),
                            RULE_CLASSES={"x.y": SAFETY})
    with pytest.raises(TypeError, match=r"policies.apart.RULE_CLASSES: declare a rule's class in its Rule"):
        collect([apart])


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(), "exactly one of spec="), (dict(spec="s", control="c"), "exactly one of spec="),
    (dict(control="c", rule_class="strict"), "is not one of"),
])
def test_should_refuse_an_incomplete_declaration(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Rule("x.y", "summary", **kwargs)


def test_should_class_a_rule_by_its_family_unless_declared():
    assert Rule("resources.x", "s", control="c").rule_class == "budget"
    assert Rule("resources.x", "s", control="c", rule_class=SAFETY).rule_class == SAFETY
    assert rule_class("nobody.declared-this") == SAFETY


def test_should_list_every_catalogued_rule_in_the_budget_document(render_env):
    budget = load_budget()
    document = generate(budget, guard_arithmetic(budget, render_env))
    listed = re.findall(r"^\| `([a-z0-9.-]+)` \| (budget|safety) \| (failure|warning) \|", document, re.M)
    assert [rule for rule, _, _ in listed] == sorted(CATALOGUE)
    assert {rule: (cls, sev) for rule, cls, sev in listed} == {
        r.id: (r.rule_class, r.severity.value) for r in CATALOGUE.values()}


def test_should_record_a_rule_the_harness_emits_but_not_a_copy_or_a_tests_own_finding():
    namespace = {"__name__": "policies.somewhere", "failure": failure}
    exec("def emit():\n    return failure('fake.undeclared', 'made up')\n", namespace)  # noqa: S102
    try:
        finding = namespace["emit"]()
        assert "fake.undeclared" in catalogue_coverage.EMITTED
        catalogue_coverage.EMITTED.discard("fake.undeclared")
        catalogue_coverage._test_emitted.discard("fake.undeclared")
        dataclasses.replace(finding, message="copied")
        failure("fake.by-a-test", "built by the test itself")
        assert not {"fake.undeclared", "fake.by-a-test"} & catalogue_coverage.EMITTED
    finally:
        catalogue_coverage.EMITTED.discard("fake.undeclared")
        catalogue_coverage._test_emitted.discard("fake.undeclared")

