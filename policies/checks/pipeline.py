"""Pipeline figures: CI's measurements judged against the budget's tiers and SLAs, and the baseline.

`check --measurements FILE` reads a YAML or JSON file of figures a CI run
measured (policies/measurements.schema.json). Each figure is judged against
its budget entry (`check --baseline FILE` also compares the run with a
baseline: policies/checks/baseline.py; the engine runs both).

Tier order: the spec's warning thresholds (docker build 90 s, image 120 MB)
sit *below* its targets (120 s, 150 MB). So a figure over the failure
threshold is a failure, over the warning threshold a warning, and the target
decides nothing (anything over it is already over the warning threshold); the
message reports it as information.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from policies import PACKAGE_DIR
from policies.checks.timing import STAGE_RULE
from policies.core.findings import Finding, Severity, failure, warning
from policies.core.outcome import Measurement
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import Budget
from policies.inputs.validation import validate_or_raise
from policies.inputs.yamlsource import SourcedYaml, load_yaml_file

MEASUREMENTS_SCHEMA = PACKAGE_DIR / "measurements.schema.json"
RULES = declare(
    Rule("pipeline.docker-build", "docker build time within build.dockerBuildSeconds tiers",
         spec="Build Performance Targets / Docker Build Time"),
    Rule("pipeline.image-size", "runtime image size within build.imageSizeMB tiers",
         spec="Build Performance Targets / Docker Image Size"),
    Rule("pipeline.build-push", "docker build + push within pipeline.dockerBuildPushSeconds",
         spec="Deployment Pipeline SLAs / CI/CD Performance"),
    Rule("pipeline.artifact-upload", "artifact upload within pipeline.artifactUploadSeconds",
         spec="Deployment Pipeline SLAs / CI/CD Performance"),
    Rule("pipeline.total", "whole pipeline within pipeline.totalPipelineSeconds",
         spec="Deployment Pipeline SLAs / CI/CD Performance"),
    Rule("pipeline.container-boot", "container ready within startup.readySeconds, alert above "
                                    "regression.readinessAlertSeconds",
         spec="Application Startup Targets / Container Boot Time"),
)


@dataclass(frozen=True)
class Tier:
    name: str  # as a message names it: "failure threshold", "SLA", ...
    limit: float
    budget_key: tuple[str, ...]
    severity: Severity | None  # None: information only (a target)


@dataclass(frozen=True)
class Figure:
    key: str  # key in the measurements file
    label: str
    rule: str
    unit: str
    tiers: tuple[Tier, ...]  # most severe first
    scale: float = 1.0  # file value * scale = value in `unit`


def figures(budget: Budget) -> list[Figure]:
    """Every figure a measurements file may carry, with its tiers read from the budget."""
    build, pipeline = budget["build"], budget["pipeline"]

    def tiers(section: str) -> tuple[Tier, ...]:
        spec = build[section]
        return (Tier("failure threshold", spec["failure"], ("build", section, "failure"), Severity.FAILURE),
                Tier("warning threshold", spec["warning"], ("build", section, "warning"), Severity.WARNING),
                Tier("target", spec["target"], ("build", section, "target"), None))

    def sla(key: str) -> tuple[Tier, ...]:
        return (Tier("SLA", pipeline[key], ("pipeline", key), Severity.FAILURE),)

    return [
        Figure("dockerBuildSeconds", "docker build", "pipeline.docker-build", "s", tiers("dockerBuildSeconds")),
        Figure("imageSizeBytes", "image size", "pipeline.image-size", "MB", tiers("imageSizeMB"), scale=1e-6),
        Figure("buildPushSeconds", "docker build + push", "pipeline.build-push", "s", sla("dockerBuildPushSeconds")),
        Figure("helmValidationSeconds", "helm validation (CI)", STAGE_RULE, "s",
               sla("helmValidationSeconds")),
        Figure("artifactUploadSeconds", "artifact upload", "pipeline.artifact-upload", "s",
               sla("artifactUploadSeconds")),
        Figure("totalPipelineSeconds", "total pipeline", "pipeline.total", "s", sla("totalPipelineSeconds")),
        Figure("containerBootSeconds", "container boot", "pipeline.container-boot", "s", (
            Tier("readiness alert line", budget["regression"]["readinessAlertSeconds"],
                 ("regression", "readinessAlertSeconds"), Severity.FAILURE),
            Tier("boot target", budget["startup"]["readySeconds"], ("startup", "readySeconds"), Severity.WARNING))),
    ]


@dataclass(frozen=True)
class PipelineMeasurements:
    source: SourcedYaml

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def figures(self) -> dict[str, float]:
        """The numeric figures, by key (metadata such as `commit` left out)."""
        return {k: v for k, v in self.source.data.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def load_measurements(path: str | Path) -> PipelineMeasurements:
    """Read and validate a measurements file; any problem is an InputError naming file, line and key."""
    source = load_yaml_file(path)
    validate_or_raise(MEASUREMENTS_SCHEMA, source)
    return PipelineMeasurements(source)


def _amount(value: float, unit: str) -> str:
    return f"{value:g} {unit}"


def judge_figure(figure: Figure, raw: float, source: PipelineMeasurements) -> tuple[Measurement, Finding | None]:
    value = round(raw * figure.scale, 3)
    hard_limit = float(figure.tiers[0].limit)
    crossed = next((t for t in figure.tiers if t.severity and value > t.limit), None)
    status = crossed.severity.value if crossed and crossed.severity else "ok"
    measurement = Measurement(figure.label, figure.unit, value, hard_limit, status, rule=figure.rule)
    if crossed is None or crossed.severity is None:
        return measurement, None
    others = ", ".join(f"{t.name} {_amount(t.limit, figure.unit)}" for t in figure.tiers if t is not crossed)
    context = f" ({others})" if others else ""
    make = failure if crossed.severity is Severity.FAILURE else warning
    return measurement, make(
        figure.rule,
        f"{figure.label} {_amount(value, figure.unit)} is over the {crossed.name} "
        f"{_amount(crossed.limit, figure.unit)}{context}",
        field=figure.key, expected=f"<= {_amount(crossed.limit, figure.unit)} ({crossed.name})",
        actual=_amount(value, figure.unit), file=str(source.path), line=source.source.line_of((figure.key,)))


def judge_measurements(measurements: PipelineMeasurements, budget: Budget
                       ) -> tuple[list[Measurement], list[Finding]]:
    rows, findings = [], []
    given = measurements.figures
    for figure in figures(budget):
        if figure.key in given:
            row, finding = judge_figure(figure, given[figure.key], measurements)
            rows.append(row)
            if finding:
                findings.append(finding)
    return rows, findings
