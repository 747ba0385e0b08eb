"""A waiver naming an environment, rule or resource that does not exist fails at its line (waiver.unknown)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from builders import budget_with
from rulekit import app_container, editable_docs, safe_dump_all, unguarded

from policies.engine import CheckRequest, run_check
from policies.inputs.budget import load_budget
from policies.judging.waivers import load_waivers

TODAY = dt.date(2026, 11, 27)
DEPLOYMENT = "Deployment/prompted-forge-mcp"


@pytest.fixture(scope="module")
def over_budget(render_env, tmp_path_factory) -> Path:
    docs = editable_docs(render_env("production"))
    app_container(docs)["resources"]["limits"]["memory"] = "1025Mi"
    path = tmp_path_factory.mktemp("render") / "production.yaml"
    path.write_text(safe_dump_all(unguarded(docs)), encoding="utf-8")
    return path


def outcome_with(tmp_path: Path, manifests: Path, **waiver: str):
    entry = {"rule": "resources.within-budget", "reason": "load test week, ticket OPS-1", "expires": "2027-01-01",
             **waiver}
    path = tmp_path / "waivers.yaml"
    path.write_text("# waivers\n" + yaml.safe_dump({"waivers": [entry]}, sort_keys=False), encoding="utf-8")
    budget = budget_with("production", admissionGuards=False)
    return run_check(CheckRequest(environments=["production"], budget=budget, waivers=load_waivers(path),
                                  manifests_file=manifests, mode="enforce", today=TODAY))


def waiver_findings(outcome) -> list[tuple]:
    return [(f.rule, f.effective_severity, f.line, f.actual) for f in outcome.findings if f.rule.startswith("waiver.")]


@pytest.mark.parametrize(("waiver", "actual"), [
    ({"environment": "prod"}, "environment 'prod'"),
    ({"rule": "resources.within-budgt"}, "rule 'resources.within-budgt'"),
    ({"environment": "production", "resource": "Deployment/prompted-forge"},
     "resource 'Deployment/prompted-forge'"),
    ({"resource": "deployment/prompted-forge-mcp"}, "resource 'deployment/prompted-forge-mcp'"),
], ids=["environment-typo", "rule-typo", "resource-typo", "resource-kind-lowercase"])
def test_should_fail_a_waiver_that_names_what_does_not_exist(waiver, actual, over_budget, tmp_path):
    outcome = outcome_with(tmp_path, over_budget, **waiver)
    assert waiver_findings(outcome) == [("waiver.unknown", "failure", 3, actual)]
    assert outcome.exit_code == 1


def test_should_waive_with_a_waiver_whose_names_all_exist(over_budget, tmp_path):
    outcome = outcome_with(tmp_path, over_budget, environment="production", resource=DEPLOYMENT)
    assert waiver_findings(outcome) == []
    assert [f.effective_severity for f in outcome.findings] == ["waived"]
    assert outcome.exit_code == 0


def test_should_not_judge_a_resource_in_an_environment_not_checked(over_budget, tmp_path):
    outcome = outcome_with(tmp_path, over_budget, environment="staging", resource="Deployment/only-in-staging")
    assert waiver_findings(outcome) == []


def test_should_fail_an_unknown_waiver_in_the_warn_phase_too(over_budget, tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": [{"rule": "resources.within-budget", "environment": "prod",
                                                 "reason": "load test week, ticket OPS-1",
                                                 "expires": "2027-01-01"}]}), encoding="utf-8")
    outcome = run_check(CheckRequest(environments=["production"], budget=load_budget(),
                                     waivers=load_waivers(path), manifests_file=over_budget, today=TODAY))
    assert outcome.mode == "warn" and [f.rule for f in outcome.failed] == ["waiver.unknown"]
