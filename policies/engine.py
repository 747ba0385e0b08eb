"""The check pipeline: render (or read) each environment, run the policies, apply phase and waivers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from policies.catalogue import rule_catalogue, rule_class
from policies.checkplan import RunFacts, pipeline_runs, skipped, timed
from policies.checks import drift, kubeschema
from policies.checks.baseline import compare, load_baseline, rendered_totals, snapshot, totals_comparison
from policies.checks.chartmeta import validate_chart_yaml
from policies.checks.context import CheckContext
from policies.checks.drift import AllowedDrift, base_manifests, check_drift, load_allowed
from policies.checks.kubeschema import chart_kube_versions, validate_manifests
from policies.checks.phasetarget import judge_image_targets
from policies.checks.pipeline import judge_measurements, load_measurements
from policies.checks.review import next_review, review_findings
from policies.checks.rules import FAMILIES, resources
from policies.checks.timing import judge, judge_stage
from policies.core.errors import InputError
from policies.core.findings import Finding, Severity
from policies.core.outcome import CheckRun, Measurement, Outcome
from policies.core.paths import display_path
from policies.core.ruleclass import SAFETY
from policies.helmwork import HelmPlan, HelmWork
from policies.inputs.budget import Budget
from policies.inputs.yamlsource import dotted, read_input_text
from policies.judging.grouping import group_by_cause
from policies.judging.waivers import KnownNames, Waiver, apply_waivers
from policies.render.helm import Helm, HelmError, find_helm
from policies.render.helmcalls import DEFAULT_SETTINGS, RenderSettings
from policies.render.helmtimes import Timing
from policies.render.manifests import ManifestIndex, parse_manifests
from policies.render.render import (
    Render,
    ValuesLayers,
    check_values_schema,
    load_values_layers,
    locate_failed_render,
    render_from,
)


@dataclass(frozen=True)
class CheckRequest:
    environments: list[str]
    budget: Budget
    waivers: list[Waiver] = field(default_factory=list)
    settings: RenderSettings = DEFAULT_SETTINGS  # the chart, Kubernetes and API versions, --values overlays
    manifests_file: Path | None = None
    mode: str | None = None  # None: the budget's phase decides
    helm: Helm | None = None
    # The run's helm calls, when already started (the CLI starts them first); else evaluate starts them.
    helm_work: HelmWork | None = None
    today: dt.date = field(default_factory=dt.date.today)
    timing_runs: int = 0  # samples per helm operation (policies/checks/timing.py); 0: no timing, lint or package
    # Called with each environment as it finishes (the CLI shows progress on stderr).
    progress: Callable[[str], None] | None = None
    measurements_file: Path | None = None  # CI figures (policies/checks/pipeline.py)
    baseline_file: Path | None = None  # compare with this baseline (policies/checks/baseline.py)


def locate(finding: Finding, ctx: CheckContext, chart: Path) -> Finding:
    """Fill in where to fix a finding: the values file line, else the template or input file."""
    if finding.file:
        return finding
    if finding.values_keys and ctx.layers:
        located = locate_inputs(finding, ctx.layers)
        if located:
            return located
    if finding.values_key and ctx.layers:
        located = ctx.layers.locate(finding.values_key)
        if located:
            return dataclasses.replace(finding, file=display_path(located[0]), line=located[1])
    manifest = next((m for m in ctx.manifests if m.ref == finding.resource), None)
    if manifest and manifest.source and not manifest.origin_is_file:
        return dataclasses.replace(finding, file=display_path(chart.parent / manifest.source))
    if manifest and manifest.origin_is_file:
        line, column = manifest.position(finding.field)
        return dataclasses.replace(finding, file=display_path(manifest.origin), line=line, column=column)
    return finding


def locate_inputs(finding: Finding, layers: ValuesLayers) -> Finding | None:
    """A derived figure: name every value it came from, and point at the one layered last.

    The top-most layer is where the latest change was made (an overlay over the
    environment file over the defaults), so it is the likeliest place to fix.
    """
    decided = [(key, layers.decide(key)) for key in finding.values_keys]
    written = [(key, found) for key, found in decided if found]
    if not written:
        return None
    inputs = tuple(f"{dotted(key)}={_shown(layers.value(key))} ({display_path(found[1])}:{found[2]})"
                   for key, found in written)
    # max() keeps the first of equals, so the rule's own order breaks ties.
    _, (_, file, line) = max(written, key=lambda item: item[1][0])
    return dataclasses.replace(finding, file=display_path(file), line=line, inputs=inputs,
                               message=f"{finding.message}; from {', '.join(inputs)}")


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "unset" if value is None else str(value)


def enforced(rule: str, request: CheckRequest) -> bool:
    """Whether a failure of this rule fails the run.

    Safety rules fail in every phase. A budget rule follows --mode, else its enforce-from date, else the phase.
    """
    if rule_class(rule) == SAFETY:
        return True
    if request.mode:
        return request.mode == "enforce"
    enforce_from = (request.budget["phase"].get("enforceFrom") or {}).get(rule)
    if enforce_from:
        return request.today >= dt.date.fromisoformat(str(enforce_from))
    return request.budget.mode == "enforce"


def effective_mode(request: CheckRequest) -> str:
    return request.mode or request.budget.mode


def read_manifests_file(path: Path) -> str:
    text = read_input_text(path, "manifests file")
    if not text.strip():
        raise InputError("manifests file is empty; expected rendered Kubernetes documents", file=path)
    return text


def chart_findings(chart: Path) -> list[Finding]:
    """Chart.yaml problems, as findings; an unreadable Chart.yaml is bad input."""
    problems = validate_chart_yaml(chart / "Chart.yaml")
    for problem in problems:
        if isinstance(problem, InputError):
            raise problem
    return [dataclasses.replace(p, file=display_path(p.file)) if p.file else p for p in problems]


# What a rule raises when a field holds a type Kubernetes would not accept there.
UNREADABLE = (TypeError, ValueError, AttributeError, KeyError, ArithmeticError)


def unjudgeable(schema_finding: Finding) -> InputError:
    """Bad input: a document the Kubernetes schema rejects cannot be judged against the budget."""
    where = " ".join(part for part in (schema_finding.resource, schema_finding.field) if part)
    return InputError(
        f"{where}: {schema_finding.message}; the budget rules cannot judge a document the Kubernetes schema "
        "rejects (the API server would refuse it too)", file=schema_finding.file, line=schema_finding.line)


def check_environment(ctx: CheckContext, request: CheckRequest, render: Render | None = None,
                      base: ManifestIndex | None = None, allowed: list[AllowedDrift] | None = None
                      ) -> list[Finding]:
    """Every per-environment check: the budget policies, strict Kubernetes schemas, the drift guard;
    the findings, located, and a timed run (or a skip) per rule."""
    env = ctx.environment
    findings: list[Finding] = []
    runs: list[CheckRun] = []
    # The schema goes first: a document it rejects (a string where Kubernetes wants a number, a list where it
    # wants an object) is what a rule may fail to read, and the schema finding says where.
    schema_found, schema_runs = timed(kubeschema, env, lambda: validate_manifests(
        ctx.manifests, chart_kube_versions(request.settings.chart), env))
    for family in FAMILIES:
        try:
            found, family_runs = timed(family, env, lambda family=family: family.check(ctx))
        except UNREADABLE as error:
            if not schema_found:
                raise  # a document the schema accepts must never crash a rule: that is a bug, not bad input
            raise unjudgeable(locate(schema_found[0], ctx, request.settings.chart)) from error
        findings += found
        runs += family_runs
    findings += schema_found
    runs += schema_runs
    if render is not None and base is not None:
        found, drift_runs = timed(drift, env, lambda: check_drift(
            env, render, base, allowed if allowed is not None else load_allowed()))
        findings += found
        runs += drift_runs
    else:
        runs += skipped(drift, env, "--manifests: no chart render to compare with the defaults")
    return [locate(f, ctx, request.settings.chart) for f in findings], runs


@dataclass(frozen=True)
class EnvironmentResult:
    ctx: CheckContext
    render: Render | None
    findings: list[Finding]
    checks: list[CheckRun] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    results: list[EnvironmentResult]
    timings: list[Timing]  # every helm operation timed, the chart's package included
    helm_seconds: float  # wall time of the helm stage: renders, lints and the package


def evaluate(request: CheckRequest) -> list[EnvironmentResult]:
    """Render (or read) and check each environment."""
    return evaluate_and_time(request).results


def evaluate_and_time(request: CheckRequest) -> Evaluation:
    """Render (or read) and check each environment, timing each helm operation once (or timing_runs times).

    The helm calls run back to back in the background (policies/helmwork.py), started by the CLI before
    it imported this module when it could name them; each environment's values are read and validated
    while helm runs, and its checks run as soon as its render is out, beside the next helm call.
    """
    if request.manifests_file:
        text = read_manifests_file(request.manifests_file)
        index = ManifestIndex(parse_manifests(text, origin=request.manifests_file))
        contexts = [CheckContext(env, request.budget, index) for env in request.environments]
        return Evaluation([EnvironmentResult(ctx, None, *check_environment(ctx, request)) for ctx in contexts], [],
                          0.0)
    for env in request.environments:
        request.budget.environment(env)  # unknown environment -> InputError before any render
    plan = helm_plan(request)
    work = request.helm_work
    if work is None or not work.plan.same_calls(plan):
        if work is not None:
            work.close()  # started for other calls: it must not compete with the ones timed now
        work = HelmWork(request.helm or find_helm(), plan)
    allowed = load_allowed()
    pool = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, len(request.environments)))
    try:
        base = pool.submit(lambda: base_manifests(work.base_text()))

        def check(env: str) -> EnvironmentResult:
            layers = load_values_layers(env, request.settings)
            check_values_schema(layers, request.settings.chart)  # bad values are bad input, whatever helm said
            try:
                rendered = work.render(env)
            except HelmError as exc:
                raise locate_failed_render(exc, layers) from None
            render = render_from(env, layers, rendered, work.helm.version_text, request.settings.kube_version)
            ctx = CheckContext(env, request.budget, render.manifests, render.layers)
            result = EnvironmentResult(ctx, render, *check_environment(ctx, request, render, base.result(), allowed))
            if request.progress:
                request.progress(env)
            return result

        # In helm's order, so each check starts as its render comes out; results and the first error in
        # the request's order.
        checked = {env: pool.submit(check, env) for env in work.plan.environments}
        results = [checked[env].result() for env in request.environments]
        timings = work.timings()
    finally:
        work.close()  # after an error: no further helm call, and the checks still queued are dropped
        pool.shutdown(cancel_futures=True)
    return Evaluation(results, timings, work.seconds)


def helm_plan(request: CheckRequest) -> HelmPlan:
    return HelmPlan(tuple(request.environments), request.settings, request.timing_runs)


class PerformanceResult(NamedTuple):
    measurements: list[Measurement]
    findings: list[Finding]
    baseline_totals: list[dict[str, str]]  # rendered totals, baseline against this run (policies/checks/baseline.py)


def performance_checks(
    request: CheckRequest, contexts: Sequence[CheckContext], helm_seconds: float, timings: Sequence[Timing] = (),
) -> PerformanceResult:
    """Helm timings, the run's helm stage, CI figures and the baseline comparison, for the engine."""
    rows: list[Measurement] = []
    findings: list[Finding] = []
    totals: list[dict[str, str]] = []
    for timing in timings:
        row, finding = judge(timing, request.budget)
        rows.append(row)
        findings += [finding] if finding else []
    # Timing off (--timing-runs 0) judges no helm time: a stage without lint and package is not the one
    # pipeline.helmValidationSeconds limits.
    timed_here = request.manifests_file is None and request.helm is not None and request.timing_runs > 0
    if timed_here:
        stage_row, stage_finding = judge_stage(helm_seconds, request.budget)
        rows.append(stage_row)
        findings += [stage_finding] if stage_finding else []
    measured = load_measurements(request.measurements_file) if request.measurements_file else None
    if measured:
        figure_rows, figure_findings = judge_measurements(measured, request.budget)
        rows += figure_rows
        findings += figure_findings
    if request.baseline_file:
        old = load_baseline(request.baseline_file)
        rendered: dict[str, Any] = {ctx.environment: rendered_totals(ctx.manifests) for ctx in contexts}
        new = snapshot(figures=measured.figures if measured else {}, timings=timings,
                       rendered=rendered)
        baseline_rows, regressions = compare(old, new, request.budget, request.baseline_file)
        rows += baseline_rows
        findings += regressions
        target_rows, target_findings = judge_image_targets(request.budget, old, measured.figures if measured else {},
                                                           request.baseline_file)
        rows += target_rows
        findings += target_findings
        totals = totals_comparison(old, new)
    return PerformanceResult(rows, findings, totals)


def known_names(request: CheckRequest, results: list[EnvironmentResult], findings: list[Finding]) -> KnownNames:
    """What a waiver may name in this run: the budget's environments, the rule catalogue, each checked
    environment's rendered objects and any other resource a finding names."""
    resources: dict[str, frozenset[str]] = {}
    for result in results:
        env = result.ctx.environment
        named = {f.resource for f in findings if f.resource and f.environment in (None, env)}
        resources[env] = frozenset(result.ctx.manifests.refs()) | named
    return KnownNames(frozenset(request.budget.environments), frozenset(rule_catalogue()), resources)


def run_check(request: CheckRequest) -> Outcome:
    """Run every check over every requested environment and return the judged outcome."""
    outcome = Outcome(mode=effective_mode(request), phase=request.budget.phase,
                      environments=list(request.environments),
                      next_review=next_review(request.budget).isoformat(),
                      enforcing_phase=request.budget.enforcing_phase)
    findings: list[Finding] = review_findings(request.budget, request.today)
    evaluation = evaluate_and_time(request)
    results = evaluation.results
    if not request.manifests_file:
        findings.extend(chart_findings(request.settings.chart))
    for result in results:
        findings.extend(result.findings)
        outcome.usage.extend(resources.usage(result.ctx))
        if result.render is not None:
            outcome.measurements.append(Measurement(
                name="render", unit="s", value=round(result.render.seconds, 3), limit=None, status="ok",
                environment=result.ctx.environment))
    pipeline_started = time.perf_counter()
    performance = performance_checks(request, [r.ctx for r in results], evaluation.helm_seconds,
                                     evaluation.timings)
    outcome.measurements.extend(performance.measurements)
    outcome.baseline_totals = performance.baseline_totals
    findings.extend(performance.findings)
    outcome.checks = [run for result in results for run in result.checks] + pipeline_runs(RunFacts(
        manifests_only=request.manifests_file is not None, timing_runs=request.timing_runs,
        measurements=request.measurements_file is not None, baseline=request.baseline_file is not None,
        waivers=bool(request.waivers), seconds=time.perf_counter() - pipeline_started))
    findings = apply_waivers(findings, request.waivers, request.environments, request.today,
                             known_names(request, results, findings))
    outcome.findings = sorted(
        group_by_cause(dataclasses.replace(f, enforced=enforced(f.rule, request),
                                           file=display_path(f.file) if f.file else None) for f in findings),
        key=lambda f: (f.environment or "", f.severity is not Severity.FAILURE, f.rule, f.resource or ""),
    )
    return outcome
