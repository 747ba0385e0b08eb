"""The phase governs the budget's own rules only: safety rules fail in every phase, and a warn run says so."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from builders import budget_with
from rulekit import app_container, editable_docs, safe_dump_all, unguarded

from policies.catalogue import rule_catalogue, rule_class
from policies.core.findings import Severity
from policies.core.ruleclass import BUDGET, CLASSES, SAFETY, family_class
from policies.engine import CheckRequest, run_check
from policies.inputs.budget import load_budget
from policies.reports import render_report

TODAY = dt.date(2026, 11, 27)


def test_should_give_every_catalogued_rule_a_class():
    assert {rule.rule_class for rule in rule_catalogue().values()} <= set(CLASSES)


@pytest.mark.parametrize(("rule", "expected"), [
    ("resources.within-budget", BUDGET), ("rollout.max-unavailable", BUDGET), ("probes.period", BUDGET),
    ("timing.helm-lint", BUDGET), ("metrics.environments", BUDGET), ("pipeline.total", BUDGET),
    ("regression.image-size", BUDGET),
    ("schema.kubernetes", SAFETY), ("helm.error", SAFETY), ("chart.metadata", SAFETY),
    ("pss.baseline.privileged-containers", SAFETY), ("security.read-only-root", SAFETY),
    ("secrets.literal", SAFETY), ("drift.unexpected", SAFETY),
    ("waiver.unused", SAFETY),
])
def test_should_class_rules_by_what_the_phase_governs(rule, expected):
    assert rule in rule_catalogue()
    assert rule_class(rule) == expected


def test_should_fail_closed_for_a_rule_family_nobody_classed():
    assert family_class("rbac.wildcard-verbs") == SAFETY
    assert family_class("newfamily.something") == SAFETY


def manifests_file(tmp_path: Path, docs: list[dict]) -> Path:
    path = tmp_path / "production.yaml"
    path.write_text(safe_dump_all(docs), encoding="utf-8")
    return path


def check(path: Path, mode: str | None = None):
    # Without namespace guards: a guard would refuse the over-budget pod too, and that is a safety
    # finding (guard.limitrange-admits, tests/test_rules_guard.py), whatever the phase.
    budget = budget_with("production", admissionGuards=False)
    return run_check(CheckRequest(environments=["production"], budget=budget, manifests_file=path,
                                  mode=mode, today=TODAY))



@pytest.fixture
def over_budget(render_env, tmp_path) -> Path:
    docs = editable_docs(render_env("production"))
    app_container(docs)["resources"]["limits"]["memory"] = "1025Mi"
    return manifests_file(tmp_path, unguarded(docs))


@pytest.fixture
def privileged(render_env, tmp_path) -> Path:
    docs = editable_docs(render_env("production"))
    app_container(docs)["securityContext"]["privileged"] = True
    return manifests_file(tmp_path, unguarded(docs))


def test_should_warn_on_budget_failures_in_the_warn_phase_and_say_what_enforcing_would_fail(over_budget):
    outcome = check(over_budget)
    assert load_budget().phase == "3.4.3" and outcome.mode == "warn"
    assert outcome.exit_code == 0 and outcome.status == "warn"
    assert [f.rule for f in outcome.would_fail] == ["resources.within-budget"]
    line = render_report(outcome, "table").splitlines()[-1]
    assert line.startswith("WARN — 3.4.4 would fail: 1 finding; ")
    assert "PASS" not in render_report(outcome, "markdown")


def test_should_fail_the_same_budget_finding_when_enforcing(over_budget):
    outcome = check(over_budget, mode="enforce")
    assert outcome.exit_code == 1 and outcome.status == "fail"
    assert render_report(outcome, "table").splitlines()[-1].startswith("FAIL: 1 failure(s)")


@pytest.mark.parametrize("mode", [None, "warn", "enforce"])
def test_should_fail_a_privileged_container_in_every_phase(privileged, mode):
    outcome = check(privileged, mode=mode)
    assert outcome.exit_code == 1
    assert [f.rule for f in outcome.failed] == ["pss.baseline.privileged-containers"]


def test_should_pass_only_without_warnings(render_env, tmp_path):
    outcome = check(manifests_file(tmp_path, unguarded(editable_docs(render_env("production")))))
    assert outcome.status == "pass" and outcome.findings == []
    assert render_report(outcome, "table").splitlines()[-1].startswith("PASS: 0 failure(s), 0 warning(s)")


def test_should_count_only_failures_as_what_enforcing_would_fail(over_budget):
    outcome = check(over_budget)
    plain = dataclasses.replace(outcome.findings[0], rule="values.no-effect", severity=Severity.WARNING,
                                enforced=False)
    outcome.findings.append(plain)
    assert [f.rule for f in outcome.would_fail] == ["resources.within-budget"]
    assert render_report(outcome, "table").splitlines()[-1].startswith("WARN — 3.4.4 would fail: 1 finding; ")


def test_should_say_warn_without_a_preview_when_only_plain_warnings_stand(render_env, tmp_path):
    docs = editable_docs(render_env("production"))
    app_container(docs)["resources"]["requests"]["cpu"] = "124m"  # under the floor: a plain warning
    outcome = check(manifests_file(tmp_path, unguarded(docs)))
    assert outcome.exit_code == 0 and outcome.would_fail == []
    assert render_report(outcome, "table").splitlines()[-1].startswith("WARN: 0 failure(s), 1 warning(s)")
