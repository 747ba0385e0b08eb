"""Phase, per-rule enforce dates and waivers decide whether a finding fails the run."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from policies.core.errors import InputError
from policies.engine import CheckRequest, run_check
from policies.inputs.budget import Budget, load_budget
from policies.judging.waivers import load_waivers
from policies.render.helmcalls import RenderSettings

TODAY = dt.date(2026, 11, 27)
# The namespace guards would refuse this pod too (guard.* findings, tests/test_rules_guard.py); they are
# switched off here, in the overlay and the budget, so each test judges the one resources finding.
OVER_BUDGET = {"resources": {"limits": {"memory": "2Gi"}}, "budgetGuard": {"enabled": False}}


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    path = tmp_path / "over-budget.yaml"
    path.write_text(yaml.safe_dump(OVER_BUDGET), encoding="utf-8")
    return path


def budget_file(tmp_path: Path, mutate=lambda data: None) -> Budget:
    data = copy.deepcopy(load_budget().data)
    data["environments"]["production"]["admissionGuards"] = False
    mutate(data)
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_budget(path)


def waivers_file(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(yaml.safe_dump({"waivers": list(entries)}, sort_keys=False), encoding="utf-8")
    return path


def check(budget: Budget, overlay: Path | None = None, waivers: list | None = None, mode: str | None = None,
          helm=None):
    return run_check(CheckRequest(environments=["production"], budget=budget, waivers=waivers or [],
                                  settings=RenderSettings(extra_values=(overlay,) if overlay else ()), mode=mode,
                                  helm=helm, today=TODAY))


def test_should_warn_only_in_the_warn_phase(overlay, helm, tmp_path):
    budget = budget_file(tmp_path, lambda d: d["phase"].update(current="3.4.3"))
    outcome = check(budget, overlay, helm=helm)
    assert outcome.mode == "warn" and outcome.exit_code == 0
    assert {f.effective_severity for f in outcome.findings} == {"warning"}


def test_should_fail_in_the_enforce_phase(overlay, helm, tmp_path):
    budget = budget_file(tmp_path, lambda d: d["phase"].update(current="3.4.4"))
    outcome = check(budget, overlay, helm=helm)
    assert outcome.mode == "enforce" and outcome.exit_code == 1


def test_should_enforce_a_rule_from_its_own_date_in_the_warn_phase(overlay, helm, tmp_path):
    budget = budget_file(tmp_path, lambda d: d["phase"].update(
        current="3.4.3", enforceFrom={"resources.within-budget": "2026-11-01"}))
    assert check(budget, overlay, helm=helm).exit_code == 1


def test_should_not_enforce_a_rule_before_its_date(overlay, helm, tmp_path):
    budget = budget_file(tmp_path, lambda d: d["phase"].update(
        current="3.4.4", enforceFrom={"resources.within-budget": "2027-01-01"}))
    outcome = check(budget, overlay, helm=helm)
    assert outcome.exit_code == 0 and outcome.findings


def test_should_let_mode_override_everything(overlay, helm, tmp_path):
    budget = budget_file(tmp_path, lambda d: d["phase"].update(
        current="3.4.4", enforceFrom={"resources.within-budget": "2027-01-01"}))
    assert check(budget, overlay, mode="enforce", helm=helm).exit_code == 1
    assert check(budget, overlay, mode="warn", helm=helm).exit_code == 0


def test_should_waive_a_matching_finding(overlay, helm, tmp_path):
    waivers = load_waivers(waivers_file(tmp_path, {
        "rule": "resources.within-budget", "environment": "production",
        "reason": "load test week, ticket OPS-1", "expires": "2026-12-31"}))
    outcome = check(budget_file(tmp_path), overlay, waivers, mode="enforce", helm=helm)
    assert outcome.exit_code == 0
    assert [f.effective_severity for f in outcome.findings] == ["waived"]


def test_should_fail_on_an_expired_waiver(overlay, helm, tmp_path):
    waivers = load_waivers(waivers_file(tmp_path, {
        "rule": "resources.within-budget", "reason": "load test week, ticket OPS-1", "expires": "2026-11-26"}))
    outcome = check(budget_file(tmp_path), overlay, waivers, mode="enforce", helm=helm)
    rules = {f.rule for f in outcome.failed}
    assert rules == {"resources.within-budget", "waiver.expired"}
    expired = next(f for f in outcome.failed if f.rule == "waiver.expired")
    assert expired.file.endswith("waivers.yaml") and expired.line == 2


def test_should_fail_on_an_unused_waiver(helm, tmp_path):
    waivers = load_waivers(waivers_file(tmp_path, {
        "rule": "probes.period", "environment": "production", "reason": "nothing violates this any more",
        "expires": "2027-01-01"}))
    outcome = check(load_budget(), waivers=waivers, mode="enforce", helm=helm)
    assert [f.rule for f in outcome.failed] == ["waiver.unused"]


def test_should_not_call_a_waiver_unused_for_an_environment_not_checked(helm, tmp_path):
    waivers = load_waivers(waivers_file(tmp_path, {
        "rule": "probes.period", "environment": "staging", "reason": "only staging is affected",
        "expires": "2027-01-01"}))
    assert check(load_budget(), waivers=waivers, mode="enforce", helm=helm).exit_code == 0


@pytest.mark.parametrize(("entry", "key"), [
    ({"rule": "resources.within-budget", "reason": "too short", "expires": "2027-01-01"}, "waivers[0].reason"),
    ({"rule": "resources.within-budget", "reason": "a long enough reason"}, "waivers[0]"),
    ({"rule": "Not A Rule", "reason": "a long enough reason", "expires": "2027-01-01"}, "waivers[0].rule"),
    ({"rule": "resources.within-budget", "reason": "a long enough reason", "expires": "2027-13-45"},
     "waivers[0].expires"),
])
def test_should_reject_a_malformed_waiver_with_its_key(entry, key, tmp_path):
    with pytest.raises(InputError) as error:
        load_waivers(waivers_file(tmp_path, entry))
    assert error.value.key == key and error.value.line is not None and error.value.line >= 2
