"""The production alerts fire when they should and stay silent when they should, proven by promtool.

The rule groups are taken from the production render (the session's render of values-production.yaml);
synthetic series go in, computed from the thresholds in policies/budget.yaml (alertscenarios.py), and
`promtool test rules` states which alerts fire at which moment. A mutated copy of the rendered rule
(a threshold one step off, a label matcher that no longer matches the chart's pods) makes a named case
fail, so the cases can catch what they claim to.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from alertrules import alerts_of, duration_seconds
from alertscenarios import (
    EVALUATION_SECONDS,
    SCRAPE_SECONDS,
    TAIL_SECONDS,
    WARM_UP_SECONDS,
    AlertModel,
    Phase,
    Target,
    chart_pods,
    cpu_model,
    expect_firing,
    expect_never_firing,
    expect_silent,
    health_check_model,
    memory_model,
    profile_seconds,
    promtool_test_group,
    readiness_model,
)
from promtoolkit import PromtoolRun, check_rules, require_promtool, rule_groups, run_rule_test_files, write_rule_test

from policies.inputs.budget import Budget, load_budget
from policies.render.helm import Helm
from policies.render.helmcalls import RenderSettings
from policies.render.render import Render, render_environment

CPU = "PromptedForgeMCPCPUAboveRequests"
MEMORY = "PromptedForgeMCPMemoryAboveLimits"
HEALTH = "PromptedForgeMCPHealthCheckSlow"
READY = "PromptedForgeMCPPodNotReady"
VALUE_ALERTS = (CPU, MEMORY, HEALTH)


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_promtool()


@pytest.fixture(scope="module")
def production(render_env: Callable[[str], Render]) -> Render:
    return render_env("production")


@pytest.fixture(scope="module")
def groups(production: Render) -> list[dict[str, Any]]:
    found = rule_groups(production.manifests)
    assert found, "production renders no PrometheusRule"
    return found


@dataclass(frozen=True)
class Scenario:
    models: dict[str, AlertModel]
    ours: Target
    other_release: Target
    other_namespace: Target


@pytest.fixture(scope="module")
def scenario(production: Render, budget: Budget) -> Scenario:
    # The `for:` of the CPU, memory and latency alerts is a chart value, not a budget number.
    durations = {alert.name: (duration_seconds(alert), str(alert.duration))
                 for alert in alerts_of(production.manifests)}
    models = {}
    for name, build in ((CPU, cpu_model), (MEMORY, memory_model), (HEALTH, health_check_model)):
        seconds, text = durations[name]
        models[name] = build(budget, int(seconds), text)
    models[READY] = readiness_model(budget)
    return Scenario(models, *chart_pods(production.manifests))


@dataclass(frozen=True)
class Case:
    name: str
    group: dict[str, Any]
    evaluation_seconds: int = EVALUATION_SECONDS


def value_alert_case(kind: str, model: AlertModel, scenario: Scenario) -> Case:
    """CPU, memory and latency: a level just above or below the threshold, for longer or shorter than `for:`."""
    above, below = model.just_above, model.just_below
    long_enough = model.for_seconds + 300  # past `for:` by a whole 5m rate window
    too_short = model.for_seconds - 60

    def spike(seconds: int) -> list[Phase]:
        return [Phase(WARM_UP_SECONDS, below), Phase(seconds, above), Phase(TAIL_SECONDS, below)]

    firing = spike(long_enough)
    end = profile_seconds(firing)
    threshold = f"{model.threshold:g}"
    if kind == "fires":
        name = f"{model.name} fires just above {threshold} held longer than for: {model.for_text}"
        checks = [expect_silent(model, WARM_UP_SECONDS),
                  expect_firing(model, WARM_UP_SECONDS + long_enough - SCRAPE_SECONDS, scenario.ours, above)]
        return Case(name, promtool_test_group(name, model, {scenario.ours: firing}, checks))
    profiles = {
        "below": {scenario.ours: [Phase(end, below)]},
        "short": {scenario.ours: spike(too_short)},
        "other-release": {scenario.other_release: firing},
        "other-namespace": {scenario.other_namespace: firing},
    }[kind]
    name = {
        "below": f"{model.name} stays silent just below {threshold}",
        "short": f"{model.name} stays silent above {threshold} for {too_short}s, less than for: {model.for_text}",
        "other-release": f"{model.name} ignores another release's pods in the namespace",
        "other-namespace": f"{model.name} ignores the release's pods in another namespace",
    }[kind]
    checks = expect_never_firing(model, end, EVALUATION_SECONDS)
    return Case(name, promtool_test_group(name, model, profiles, checks))


def readiness_case(kind: str, model: AlertModel, scenario: Scenario, budget: Budget) -> Case:
    """Not ready: level 1 for the number of scrapes that a not-ready spell starting at a scrape shows."""

    def scrapes_seeing(seconds: float) -> int:
        return math.ceil(seconds / SCRAPE_SECONDS)

    def not_ready(seconds: float) -> list[Phase]:
        shown = scrapes_seeing(seconds) * SCRAPE_SECONDS
        return [Phase(WARM_UP_SECONDS, 0), Phase(shown, 1), Phase(TAIL_SECONDS, 0)]

    boot_seconds = budget["startup"]["readySeconds"]
    long_spell = not_ready(model.for_seconds + 1)
    if kind == "fires":
        name = f"{model.name} fires when a pod is not ready longer than {model.for_text}"
        # Pending at the first evaluation that sees it, firing at the next one.
        first_seen = WARM_UP_SECONDS
        checks = [expect_silent(model, first_seen),
                  expect_firing(model, first_seen + (scrapes_seeing(model.for_seconds + 1) - 1) * SCRAPE_SECONDS,
                                scenario.ours, 1)]
        return Case(name, promtool_test_group(name, model, {scenario.ours: long_spell}, checks))
    # Three scrapes see the pod not ready (45 s): evaluations 15 s apart see it three times, 60 s apart once.
    spell = 3 * SCRAPE_SECONDS
    if kind == "spell-evaluated-every-15s":
        name = f"{model.name} fires for a {spell}s not-ready spell when rules are evaluated every 15s"
        checks = [expect_firing(model, WARM_UP_SECONDS + SCRAPE_SECONDS, scenario.ours, 1)]
        return Case(name, promtool_test_group(name, model, {scenario.ours: not_ready(spell)}, checks))
    if kind == "spell-evaluated-every-60s":
        name = f"{model.name} misses a {spell}s not-ready spell when rules are evaluated every 60s"
        profile = not_ready(spell)
        return Case(name, promtool_test_group(name, model, {scenario.ours: profile},
                                              expect_never_firing(model, profile_seconds(profile), 60)), 60)
    if kind == "boot-scraped-slower-than-evaluated":
        # The misconfiguration the README warns about: one not-ready sample, seen by two evaluations.
        scrape = 2 * EVALUATION_SECONDS
        name = (f"{model.name} fires on a normal boot when pod status is scraped every {scrape}s "
                f"but rules are evaluated every {EVALUATION_SECONDS}s")
        boot = [Phase(WARM_UP_SECONDS, None), Phase(math.ceil(boot_seconds / scrape) * scrape, 1),
                Phase(TAIL_SECONDS, 0)]
        checks = [expect_firing(model, WARM_UP_SECONDS + EVALUATION_SECONDS, scenario.ours, 1)]
        return Case(name, promtool_test_group(name, model, {scenario.ours: boot}, checks, scrape))
    long_outage = [Phase(WARM_UP_SECONDS, 0), Phase(300, 1), Phase(TAIL_SECONDS, 0)]
    boot = [Phase(WARM_UP_SECONDS, None), Phase(scrapes_seeing(boot_seconds) * SCRAPE_SECONDS, 1),
            Phase(TAIL_SECONDS, 0)]
    profiles, name = {
        "boot": ({scenario.ours: boot},
                 f"{model.name} stays silent through a normal boot (not ready under {boot_seconds}s)"),
        "ready": ({scenario.ours: [Phase(profile_seconds(long_outage), 0)]},
                  f"{model.name} stays silent while the pod is ready"),
        "other-release": ({scenario.other_release: long_outage},
                          f"{model.name} ignores another release's pods in the namespace"),
        "other-namespace": ({scenario.other_namespace: long_outage},
                            f"{model.name} ignores the release's pods in another namespace"),
    }[kind]
    end = max(profile_seconds(profile) for profile in profiles.values())
    return Case(name, promtool_test_group(name, model, profiles, expect_never_firing(model, end, EVALUATION_SECONDS)))


VALUE_KINDS = ("fires", "below", "short", "other-release", "other-namespace")
READINESS_KINDS = ("fires", "boot", "ready", "other-release", "other-namespace", "spell-evaluated-every-15s",
                   "spell-evaluated-every-60s", "boot-scraped-slower-than-evaluated")
CASES = [(alert, kind) for alert in VALUE_ALERTS for kind in VALUE_KINDS] + [(READY, kind) for kind in READINESS_KINDS]


def build_case(alert: str, kind: str, scenario: Scenario, budget: Budget) -> Case:
    model = scenario.models[alert]
    return readiness_case(kind, model, scenario, budget) if alert == READY else value_alert_case(kind, model, scenario)


def with_only(groups: list[dict[str, Any]], alert: str) -> list[dict[str, Any]]:
    """The groups holding `alert`'s rule alone. A case states only its own alert's firings, and no rule reads
    another's (ALERTS), so the other alerts would be evaluated for nothing: this halves promtool's work."""
    rules = [rule for group in groups for rule in group["rules"]]
    assert not any("ALERTS" in str(rule.get("expr", "")) for rule in rules), "a rule reads ALERTS: keep them all"
    kept = [{**group, "rules": [rule for rule in group["rules"] if rule.get("alert") == alert]} for group in groups]
    assert sum(len(group["rules"]) for group in kept) == 1, f"expected exactly one rule named {alert}"
    return [group for group in kept if group["rules"]]


def case_id(alert: str, kind: str) -> str:
    return f"{alert}-{kind}"


@dataclass(frozen=True)
class CaseRun:
    case: Case
    run: PromtoolRun


def write_case(directory: Path, groups: list[dict[str, Any]], alert: str, case: Case) -> Path:
    """The case's test file and its own rule file (the alert's rule alone), in a folder of their own."""
    directory.mkdir()  # raises if two cases would share one
    return write_rule_test(with_only(groups, alert), [case.group], directory, f"{case.evaluation_seconds}s")


@pytest.fixture(scope="module")
def case_runs(promtool: str, groups: list[dict[str, Any]], scenario: Scenario, budget: Budget,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, CaseRun]:
    """Every firing case and every broken-rule case (below), by test id, run by one promtool: starting it costs
    about as much CPU as evaluating a case. Each test reads its own file's part of the output."""
    root = tmp_path_factory.mktemp("alert-cases")
    cases: dict[str, tuple[Case, Path]] = {}

    def add(test_id: str, rules: list[dict[str, Any]], alert: str, case: Case) -> None:
        assert test_id not in cases, f"two cases are named {test_id}"
        cases[test_id] = case, write_case(root / re.sub(r"\W+", "-", test_id), rules, alert, case)

    for alert, kind in CASES:
        add(case_id(alert, kind), groups, alert, build_case(alert, kind, scenario, budget))
    for mutation in MUTATIONS:
        broken = mutation.apply(groups, scenario.models[mutation.alert], scenario)
        add(mutation.id, broken, mutation.alert, build_case(mutation.alert, mutation.breaks, scenario, budget))
    runs = run_rule_test_files(promtool, [path for _, path in cases.values()], root)
    return {test_id: CaseRun(case, runs[path]) for test_id, (case, path) in cases.items()}


@pytest.mark.parametrize(("alert", "kind"), CASES, ids=[case_id(alert, kind) for alert, kind in CASES])
def test_should_fire_exactly_when_the_budget_says(case_runs: dict[str, CaseRun], alert: str, kind: str) -> None:
    found = case_runs[case_id(alert, kind)]
    if not found.run.passed:
        pytest.fail(f"{found.case.name}:\n{found.run.output}", pytrace=False)


# -- promtool itself


def test_should_skip_without_promtool_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROMTOOL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"promtool is not installed; run `make promtool`"):
        require_promtool()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI is set, so the alert rule tests may not skip"):
        require_promtool()


# -- promtool check rules on every render that enables the rule


def test_should_pass_promtool_check_rules_wherever_the_rule_is_rendered(
        promtool: str, render_env: Callable[[str], Render], helm: Helm, tmp_path: Path) -> None:
    overlay = tmp_path / "enable-rule.yaml"
    overlay.write_text(yaml.safe_dump({"monitoring": {"prometheusRule": {"enabled": True}}}), encoding="utf-8")
    renders = {env: render_env(env) for env in load_budget().environments}
    with_rule = RenderSettings(extra_values=(overlay,))
    renders |= {f"{env} with the rule enabled": render_environment(env, with_rule, helm=helm)
                for env in load_budget().environments}
    checked = {}
    for label, render in renders.items():
        found = rule_groups(render.manifests)
        if found:
            directory = tmp_path / re.sub(r"\W+", "-", label)
            directory.mkdir()
            checked[label] = check_rules(promtool, found, directory)
    assert "production" in checked, "production renders no PrometheusRule to check"
    assert {label: run.output for label, run in checked.items() if not run.passed} == {}
    assert all(f"SUCCESS: {len(alerts_of(renders[label].manifests))} rules found" in run.output
               for label, run in checked.items())


def test_should_fail_promtool_check_rules_for_a_broken_expression(
        promtool: str, groups: list[dict[str, Any]], tmp_path: Path) -> None:
    broken = copy.deepcopy(groups)
    rule = next(rule for rule in broken[0]["rules"] if rule.get("alert") == MEMORY)
    rule["expr"] = rule["expr"].replace("sum by", "sum bye", 1)
    run = check_rules(promtool, broken, tmp_path)
    assert not run.passed
    assert "FAILED" in run.output
    assert "rules.yaml" in run.output


# -- A broken copy of the rule fails a named case (the cases can fail)


def with_expr(groups: list[dict[str, Any]], alert: str, edit: Callable[[str], str]) -> list[dict[str, Any]]:
    mutated = copy.deepcopy(groups)
    for group in mutated:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                edited = edit(rule["expr"])
                assert edited != rule["expr"], f"{alert}: the mutation changed nothing in {rule['expr']!r}"
                rule["expr"] = edited
    return mutated


def with_for(groups: list[dict[str, Any]], alert: str, duration: str) -> list[dict[str, Any]]:
    mutated = copy.deepcopy(groups)
    for group in mutated:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                rule["for"] = duration
    return mutated


def shift_threshold(steps: int, step: float) -> Callable[[str], str]:
    def edit(expr: str) -> str:
        match = re.search(r">\s*([0-9.]+)\s*$", expr)
        assert match, f"no trailing comparison in {expr!r}"
        return expr[:match.start(1)] + f"{float(match.group(1)) + steps * step:g}" + expr[match.end(1):]
    return edit


def mismatch_matcher(label: str) -> Callable[[str], str]:
    """The label's matcher value with `-x` appended: it no longer matches the chart's pods."""
    return lambda expr: re.sub(rf'\b{label}(=~?)"([^"]*)"', lambda m: f'{label}{m.group(1)}"{m.group(2)}-x"', expr)


def drop_matcher(label: str) -> Callable[[str], str]:
    return lambda expr: re.sub(rf'\b{label}=~?"[^"]*",\s*', "", expr)


def loosen_pod_matcher(prefix: str) -> Callable[[str], str]:
    return lambda expr: re.sub(r'\bpod=~"[^"]*"', f'pod=~"{prefix}-.+"', expr)


def pod_prefix(scenario: Scenario) -> str:
    return scenario.ours.pod.rsplit("-", 2)[0]


Groups = list[dict[str, Any]]


@dataclass(frozen=True)
class Mutation:
    alert: str
    change: str
    breaks: str  # the case kind that must now fail
    apply: Callable[[Groups, AlertModel, Scenario], Groups]

    @property
    def id(self) -> str:
        return f"{self.alert} {self.change}"


def threshold_mutations(alert: str) -> list[Mutation]:
    return [
        Mutation(alert, "threshold one step up", "fires",
                 lambda groups, model, _: with_expr(groups, alert, shift_threshold(+1, model.step))),
        Mutation(alert, "threshold one step down", "below",
                 lambda groups, model, _: with_expr(groups, alert, shift_threshold(-1, model.step))),
    ]


def matcher_mutations(alert: str, labels: tuple[str, ...]) -> list[Mutation]:
    found = [Mutation(alert, f"{label} matcher that misses the chart's pods", "fires",
                      lambda groups, _m, _s, label=label: with_expr(groups, alert, mismatch_matcher(label)))
             for label in labels]
    found.append(Mutation(alert, "without a namespace matcher", "other-namespace",
                          lambda groups, _m, _s: with_expr(groups, alert, drop_matcher("namespace"))))
    found.append(Mutation(alert, "pod matcher loosened to the release prefix", "other-release",
                          lambda groups, _m, scenario: with_expr(groups, alert,
                                                                 loosen_pod_matcher(pod_prefix(scenario)))))
    return found


MUTATIONS = [
    *(mutation for alert in VALUE_ALERTS for mutation in threshold_mutations(alert)),
    *(mutation for alert in VALUE_ALERTS for mutation in matcher_mutations(alert, ("namespace", "pod", "container"))),
    Mutation(READY, "for: one second longer", "fires",
             lambda groups, model, _: with_for(groups, READY, f"{model.for_seconds + 1}s")),
    *matcher_mutations(READY, ("namespace", "pod")),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[mutation.id for mutation in MUTATIONS])
def test_should_fail_a_named_case_when_the_rule_is_broken(case_runs: dict[str, CaseRun], mutation: Mutation) -> None:
    found = case_runs[mutation.id]
    output = found.run.output
    assert not found.run.passed, f"{found.case.name} still passes with the rule's {mutation.change}:\n{output}"
    assert f"name: {found.case.name}" in output, output
    assert f"alertname: {mutation.alert}" in output, output
