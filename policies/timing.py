"""Helm's own speed: lint, template and package timed like a benchmark and judged against the budget.

CI timings are noisy, so each operation gets one warm-up run (first exec, cold
page cache) that is thrown away, then N timed runs. The median is the figure
judged against the limit; the p95 (nearest rank, so the slowest run when N is
small) shows the spread. A time is helm's process wall time as `Helm.run`
measures it. The whole helm stage of a run (its renders plus these timings)
is judged against the pipeline's helm validation SLA.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policies import CHART_DIR
from policies.budget import Budget
from policies.errors import InputError
from policies.findings import Finding, failure
from policies.helm import DEFAULT_KUBE_VERSION, Helm, HelmError
from policies.outcome import Measurement
from policies.render import helm_template_args, values_file_for

DEFAULT_RUNS = 3
RUNS_VARIABLE = "POLICIES_TIMING_RUNS"
STAGE_RULE = "pipeline.helm-validation"
# helm lint/template/package failing outright is a broken chart, not a slow one: a safety rule.
HELM_ERROR_RULE = "helm.error"
RULES = {
    HELM_ERROR_RULE: "helm lint --strict, template and package run without errors",
    "timing.helm-lint": "helm lint --strict with each environment's values stays within helm.lint.limitSeconds",
    "timing.helm-template": "helm template of each environment stays within helm.template.limitSeconds",
    "timing.helm-package": "helm package of the chart stays within helm.package.limitSeconds",
    STAGE_RULE: "the helm stage of a check stays within pipeline.helmValidationSeconds",
}


def default_runs() -> int:
    """Timed runs per operation: $POLICIES_TIMING_RUNS, else DEFAULT_RUNS."""
    text = os.environ.get(RUNS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_RUNS
    if not text.isdigit():
        raise InputError(f"expected a whole number of timed runs (0 disables timing), found {text!r}",
                         key=RUNS_VARIABLE)
    return int(text)


@dataclass(frozen=True)
class Operation:
    """One helm invocation to time: `helm lint` of an environment, `helm package` of the chart, ..."""

    budget_key: str  # lint | template | package (the key under `helm:` in the budget)
    environment: str | None
    args: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"helm {self.budget_key}"

    @property
    def rule(self) -> str:
        return f"timing.helm-{self.budget_key}"


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Timing:
    operation: Operation
    samples: tuple[float, ...]
    error: str | None = None  # helm failed, so there is nothing to time

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)


def operations(
    environments: Sequence[str],
    package_dir: Path,
    *,
    chart: Path = CHART_DIR,
    kube_version: str = DEFAULT_KUBE_VERSION,
    api_versions: tuple[str, ...] = (),
    extra_values: tuple[Path, ...] = (),
) -> list[Operation]:
    """What CI's helm validation runs: lint and template per environment, package once."""
    ops: list[Operation] = []
    for env in environments:
        values = [values_file_for(env, chart), *extra_values]
        lint = ["lint", "--strict", str(chart), "--kube-version", kube_version]
        for path in values:
            lint += ["--values", str(path)]
        ops.append(Operation("lint", env, tuple(lint)))
        ops.append(Operation("template", env, tuple(helm_template_args(values, kube_version, api_versions, chart))))
    ops.append(Operation("package", None, ("package", str(chart), "--destination", str(package_dir))))
    return ops


def time_operation(helm: Helm, operation: Operation, runs: int) -> Timing:
    """One warm-up run, then `runs` timed runs."""
    samples: list[float] = []
    try:
        helm.run(*operation.args)
        for _ in range(runs):
            samples.append(helm.run(*operation.args).seconds)
    except HelmError as exc:
        return Timing(operation, tuple(samples) or (0.0,), error=exc.message)
    return Timing(operation, tuple(samples))


def judge(timing: Timing, budget: Budget) -> tuple[Measurement, Finding | None]:
    """A timing row, plus a finding when helm failed or the median is over the limit."""
    op = timing.operation
    limit = float(budget["helm"][op.budget_key]["limitSeconds"])
    median, p95 = round(timing.median, 3), round(timing.p95, 3)
    where = f" for {op.environment}" if op.environment else ""
    common = dict(environment=op.environment, expected=f"median <= {limit:g} s",
                  file=str(budget.path), line=budget.line_of("helm", op.budget_key, "limitSeconds"))
    if timing.error:
        first_lines = " ".join(timing.error.splitlines()[:3])
        return (Measurement(op.name, "s", median, limit, "failure", op.environment, p95, len(timing.samples),
                            op.rule),
                failure(HELM_ERROR_RULE, f"{op.name}{where} failed, so it cannot be timed: {first_lines}",
                        actual="helm failed", **common))
    if median <= limit:
        return Measurement(op.name, "s", median, limit, "ok", op.environment, p95, len(timing.samples), op.rule), None
    return (Measurement(op.name, "s", median, limit, "failure", op.environment, p95, len(timing.samples), op.rule),
            failure(op.rule, f"{op.name}{where} took {median:g} s (median of {len(timing.samples)} runs, "
                             f"p95 {p95:g} s), over the limit of {limit:g} s",
                    actual=f"median {median:g} s, p95 {p95:g} s", **common))


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
    *,
    chart: Path = CHART_DIR,
    kube_version: str = DEFAULT_KUBE_VERSION,
    api_versions: tuple[str, ...] = (),
    extra_values: tuple[Path, ...] = (),
) -> HelmTimings:
    """Time every helm operation one after another (never in parallel: they would slow each other)."""
    started = time.perf_counter()
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="helm-package-") as package_dir:
        for operation in operations(environments, Path(package_dir), chart=chart, kube_version=kube_version,
                                    api_versions=api_versions, extra_values=extra_values):
            timings.append(time_operation(helm, operation, runs))
    measurements, findings = [], []
    for timing in timings:
        measurement, finding = judge(timing, budget)
        measurements.append(measurement)
        if finding:
            findings.append(finding)
    return HelmTimings(timings, measurements, findings, time.perf_counter() - started)
