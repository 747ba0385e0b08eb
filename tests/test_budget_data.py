"""policies/budget.yaml is the spec, number for number, and everything else agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from policies import CHART_DIR, REPO_ROOT
from policies.core.errors import InputError
from policies.core.quantity import parse_resource
from policies.docs.budgetdoc import DOC_PATH, generate, guard_arithmetic
from policies.inputs.budget import KINDS, RESOURCES, load_budget

SPEC = REPO_ROOT.parent / "shared" / "spec" / "performance-budget.md"

# (regex over the spec text with one number group, budget key path, factor from spec unit to budget unit)
SPEC_NUMBERS = [
    (r"Build completes in < (\d+) minutes", "build.dockerBuildSeconds.target", 60),
    (r"Docker Build Time[\s\S]*?Warning Threshold\*\*: > (\d+) seconds", "build.dockerBuildSeconds.warning", 1),
    (r"Docker Build Time[\s\S]*?Failure Threshold\*\*: > (\d+) seconds", "build.dockerBuildSeconds.failure", 1),
    (r"Final runtime image < (\d+)MB", "build.imageSizeMB.target", 1),
    (r"Docker Image Size[\s\S]*?Warning Threshold\*\*: > (\d+)MB", "build.imageSizeMB.warning", 1),
    (r"Docker Image Size[\s\S]*?Failure Threshold\*\*: > (\d+)MB", "build.imageSizeMB.failure", 1),
    (r"Chart Lint\*\*: < (\d+) seconds", "helm.lint.limitSeconds", 1),
    (r"Template Rendering\*\*: < (\d+) seconds per environment", "helm.template.limitSeconds", 1),
    (r"Chart Package\*\*: < (\d+) seconds", "helm.package.limitSeconds", 1),
    (r"Liveness Probe[\s\S]*?Response time: < (\d+)ms P95", "health.liveness.p95Milliseconds", 1),
    (r"Readiness Probe[\s\S]*?Response time: < (\d+)ms P95", "health.readiness.p95Milliseconds", 1),
    (r"Maximum probe failures before restart: (\d+)", "health.probes.maxFailureThreshold", 1),
    (r"Probe interval: (\d+)-\d+ seconds", "health.probes.periodSeconds.min", 1),
    (r"Probe interval: \d+-(\d+) seconds", "health.probes.periodSeconds.max", 1),
    (r"Metrics Collection[\s\S]*?Response time: < (\d+)ms P95", "metrics.p95Milliseconds", 1),
    (r"Scrape size: < (\d+)KB", "metrics.maxScrapeBytes", 1024),
    (r"Application ready in < (\d+) seconds", "startup.readySeconds", 1),
    (r"Observability initialization: < (\d+) seconds", "startup.components.observabilitySeconds", 1),
    (r"Database stub initialization: < (\d+) second", "startup.components.databaseStubSeconds", 1),
    (r"Enhanced orchestrator setup: < (\d+) seconds", "startup.components.enhancedOrchestratorSeconds", 1),
    (r"HTTP server bind: < (\d+) second", "startup.components.httpServerBindSeconds", 1),
    (r"Readiness probe success: < (\d+) seconds", "startup.components.readinessProbeSuccessSeconds", 1),
    (r"PF_ORCH_ENABLED only\): Boot in < (\d+) seconds", "startup.features.baselineBootSeconds", 1),
    (r"all features enabled\): Boot in < (\d+) seconds", "startup.features.enhancedBootSeconds", 1),
    (r"Total pipeline runtime\*\*: < (\d+) minutes", "pipeline.totalPipelineSeconds", 60),
    (r"Docker build \+ push\*\*: < (\d+) minutes", "pipeline.dockerBuildPushSeconds", 60),
    (r"Helm validation\*\*: < (\d+) seconds", "pipeline.helmValidationSeconds", 1),
    (r"Artifact upload\*\*: < (\d+) seconds", "pipeline.artifactUploadSeconds", 1),
    (r"maxUnavailable: (\d+)", "rollout.maxUnavailable", 1),
    (r"Pod replacement time\*\*: < (\d+) seconds", "rollout.podReplacementSeconds", 1),
    (r"Traffic switch time\*\*: < (\d+) seconds", "rollout.trafficSwitchSeconds", 1),
    (r"Health check stabilization\*\*: < (\d+) seconds", "rollout.healthCheckStabilizationSeconds", 1),
    (r"Image size growth\*\*: Alert if > (\d+)%", "regression.imageSizeGrowthPercent", 1),
    (r"Build time regression\*\*: Alert if > (\d+)%", "regression.buildTimeGrowthPercent", 1),
    (r"readiness probe takes > (\d+) seconds", "regression.readinessAlertSeconds", 1),
    (r"CPU usage\*\*: Alert if sustained > (\d+)%", "alerts.cpuOfRequestsPercent", 1),
    (r"Memory usage\*\*: Alert if sustained > (\d+)%", "alerts.memoryOfLimitsPercent", 1),
    (r"Response times\*\*: Alert if P95 > (\d+)ms", "alerts.healthCheckP95Milliseconds", 1),
    (r"Reduce image size by (\d+)%", "phase.phases.3\\.4\\.4.imageSizeReductionPercent", 1),
    (r"Target: < (\d+)ms P95 response times under load", "phase.phases.4\\.0.loadP95Milliseconds", 1),
]
SPEC_QUANTITIES = [
    (r"Liveness Probe[\s\S]*?Memory overhead: < (\d+MB)", "health.liveness.memoryOverhead"),
    (r"Liveness Probe[\s\S]*?CPU overhead: < (\d+m)", "health.liveness.cpuOverhead"),
    (r"Memory overhead: < (\d+MB) for Prometheus", "metrics.memoryOverhead"),
    (r"Memory overhead per feature\*\*: < (\d+MB)", "startup.features.memoryOverheadPerFeature"),
]


def budget_value(path: str):
    node = load_budget().data
    for part in re.split(r"(?<!\\)\.", path):
        node = node[part.replace("\\.", ".")]
    return node


@pytest.fixture(scope="module")
def spec_text() -> str:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside the repository ({SPEC})")
    return SPEC.read_text(encoding="utf-8")


@pytest.mark.parametrize(("pattern", "path", "factor"), SPEC_NUMBERS, ids=[p for _, p, _ in SPEC_NUMBERS])
def test_should_hold_the_spec_number(pattern, path, factor, spec_text):
    match = re.search(pattern, spec_text)
    assert match, f"spec no longer says {pattern!r}"
    assert budget_value(path) == int(match[1]) * factor


@pytest.mark.parametrize(("pattern", "path"), SPEC_QUANTITIES, ids=[p for _, p in SPEC_QUANTITIES])
def test_should_hold_the_spec_overheads_as_quantities(pattern, path, spec_text):
    spoken = re.search(pattern, spec_text)[1].replace("MB", "M")  # the spec's MB, in Kubernetes units
    kind = "cpu" if spoken.endswith("m") else "memory"
    # Memory overheads are budgeted in binary units (Mi), which are at least as generous as the spec's MB.
    assert parse_resource(kind, budget_value(path)) >= parse_resource(kind, spoken)


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_should_hold_the_spec_resource_block(environment, spec_text):
    block = re.search(rf"### {environment.title()} Environment\s*```yaml\n(.*?)```", spec_text, re.S)[1]
    spec = yaml.safe_load(block)["resources"]
    budget = load_budget()
    for kind in KINDS:
        for resource in RESOURCES:
            assert budget.resource_budget(environment, kind, resource) == parse_resource(resource, spec[kind][resource])


def test_should_give_every_values_file_a_budget_and_every_budget_a_values_file():
    files = {p.name[len("values-"):-len(".yaml")] for p in CHART_DIR.glob("values-*.yaml")}
    assert files == set(load_budget().environments)


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_should_state_the_budget_numbers_in_each_environment_file(environment):
    """Each environment file spells out exactly its budget's requests and limits."""
    values = yaml.safe_load((CHART_DIR / f"values-{environment}.yaml").read_text())
    budget = load_budget()
    for kind in KINDS:
        for resource in RESOURCES:
            assert parse_resource(resource, values["resources"][kind][resource]) == \
                budget.resource_budget(environment, kind, resource)


def test_should_fit_the_startup_components_in_the_boot_target():
    startup = load_budget()["startup"]
    assert sum(startup["components"].values()) <= startup["readySeconds"]


def test_should_keep_the_generated_budget_document_fresh(render_env):
    budget = load_budget()
    assert DOC_PATH.read_text(encoding="utf-8") == generate(budget, guard_arithmetic(budget, render_env)), \
        "run `make docs`"


@pytest.mark.parametrize(("text", "key"), [
    ("spec: [unclosed\n", None),
    ("", None),
    ("spec: {title: t, document: d}\n", None),
])
def test_should_report_a_broken_budget_as_input_error(text, key, tmp_path: Path):
    path = tmp_path / "budget.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_budget(path)
    assert error.value.file == str(path)


def test_should_name_the_line_of_a_wrong_budget_number(tmp_path: Path):
    text = (REPO_ROOT / "policies" / "budget.yaml").read_text().replace("limitSeconds: 5", "limitSeconds: five")
    path = tmp_path / "budget.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_budget(path)
    assert error.value.key == "helm.lint.limitSeconds"
    assert error.value.line == text.splitlines().index("    limitSeconds: five") + 1
