"""Helm's own speed: lint, template and package timed like a benchmark and judged against the budget.

By default each helm operation runs once per environment and that one run is
the sample: the render the check reads is the `helm template` sample, the one
`helm lint --strict` is both the lint check (a lint error is a `helm.error`
finding with helm's message) and its timing, and the chart is packaged once.
The limits sit 30-90x above the measured times, so one sample decides the same
way three would. `--timing-runs N` with N > 1 adds a warm-up run (first exec,
cold page cache) that is thrown away and takes N samples; the median is judged
and the p95 (nearest rank) shows the spread. Every report says how many samples
a figure rests on. A time is helm's process wall time as `Helm.run` measures it;
timed calls never overlap each other (policies/helmwork.py runs them one after another). The whole helm
stage of a run is judged against the pipeline's helm validation SLA.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policies.core.findings import Finding, failure
from policies.core.outcome import Measurement
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import Budget
from policies.render.helm import Helm
from policies.render.helmcalls import DEFAULT_SETTINGS, RenderSettings, operations
from policies.render.helmtimes import Timing, time_operation

STAGE_RULE = "pipeline.helm-validation"
# helm lint/template/package failing outright is a broken chart, not a slow one: a safety rule.
HELM_ERROR_RULE = "helm.error"
RULES = declare(
    Rule(HELM_ERROR_RULE, "helm lint --strict, template and package run without errors",
         control="helm lint --strict, helm template, helm package"),
    Rule("timing.helm-lint", "helm lint --strict with each environment's values stays within helm.lint.limitSeconds",
         spec="Build Performance Targets / Helm Operations"),
    Rule("timing.helm-template", "helm template of each environment stays within helm.template.limitSeconds",
         spec="Build Performance Targets / Helm Operations"),
    Rule("timing.helm-package", "helm package of the chart stays within helm.package.limitSeconds",
         spec="Build Performance Targets / Helm Operations"),
    # Also the rule of CI's own helmValidationSeconds figure (policies/checks/pipeline.py).
    Rule(STAGE_RULE, "helm validation within pipeline.helmValidationSeconds",
         spec="Deployment Pipeline SLAs / CI/CD Performance"),
)


def judge(timing: Timing, budget: Budget) -> tuple[Measurement, Finding | None]:
    """A timing row, plus a finding when helm failed or the median is over the limit."""
    op = timing.operation
    limit = float(budget["helm"][op.budget_key]["limitSeconds"])
    median, p95 = round(timing.median, 3), round(timing.p95, 3)
    where = f" for {op.environment}" if op.environment else ""
    common = dict(environment=op.environment, expected=f"median <= {limit:g} s",
                  file=str(budget.path), line=budget.line_of("helm", op.budget_key, "limitSeconds"))
    if timing.error:
        # The command, then helm's own words (lint's [ERROR] lines come first): a few lines at most.
        first_lines = " ".join(timing.error.splitlines()[:4])
        return (Measurement(op.name, "s", median, limit, "failure", op.environment, p95, len(timing.samples),
                            op.rule),
                failure(HELM_ERROR_RULE, f"{op.name}{where} failed, so it cannot be timed: {first_lines}",
                        actual="helm failed", **common))
    if median <= limit:
        return Measurement(op.name, "s", median, limit, "ok", op.environment, p95, len(timing.samples), op.rule), None
    return (Measurement(op.name, "s", median, limit, "failure", op.environment, p95, len(timing.samples), op.rule),
            failure(op.rule, f"{op.name}{where} took {median:g} s ({_sampled(timing.samples, p95)}), "
                             f"over the limit of {limit:g} s",
                    actual=f"median {median:g} s, p95 {p95:g} s", **common))


def _sampled(samples: Sequence[float], p95: float) -> str:
    if len(samples) == 1:
        return "one sample"
    return f"median of {len(samples)} runs, p95 {p95:g} s"


def judge_stage(seconds: float, budget: Budget) -> tuple[Measurement, Finding | None]:
    """The run's own helm stage (renders and timings) against the CI helm validation SLA."""
    limit = float(budget["pipeline"]["helmValidationSeconds"])
    seconds = round(seconds, 3)
    if seconds <= limit:
        return Measurement("helm validation stage", "s", seconds, limit, "ok", rule=STAGE_RULE), None
    return (Measurement("helm validation stage", "s", seconds, limit, "failure", rule=STAGE_RULE),
            failure(STAGE_RULE, f"this run's helm validation stage took {seconds:g} s, over the {limit:g} s SLA",
                    expected=f"<= {limit:g} s", actual=f"{seconds:g} s", file=str(budget.path),
                    line=budget.line_of("pipeline", "helmValidationSeconds")))


@dataclass(frozen=True)
class HelmTimings:
    timings: list[Timing]
    measurements: list[Measurement]
    findings: list[Finding]
    seconds: float  # wall time of the whole timing pass


def measure_helm(
    helm: Helm,
    budget: Budget,
    environments: Sequence[str],
    runs: int,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> HelmTimings:
    """Time every helm operation one after another (never in parallel: they would slow each other).

    `make baseline` uses this; `check` times the calls it makes anyway (policies/engine.py).
    """
    started = time.perf_counter()
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="helm-package-") as package_dir:
        for operation in operations(environments, Path(package_dir), settings):
            timings.append(time_operation(helm, operation, runs))
    measurements, findings = [], []
    for timing in timings:
        measurement, finding = judge(timing, budget)
        measurements.append(measurement)
        if finding:
            findings.append(finding)
    return HelmTimings(timings, measurements, findings, time.perf_counter() - started)
