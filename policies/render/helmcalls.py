"""The helm calls a run makes, as argument lists: the render settings, `helm template`, `helm lint`, `helm package`.

Every call is known from the command line alone, so `check` starts helm before it imports its rules and
schemas (policies/helmwork.py). This module is what that start needs, and imports nothing heavy: no YAML,
no schemas, no budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policies import CHART_DIR
from policies.render.helm import DEFAULT_KUBE_VERSION

# Extra APIs passed to helm as --api-versions. None: no template asks .Capabilities whether an
# API exists, so every enabled object renders (and is checked) as a client-side install renders it.
API_VERSIONS: tuple[str, ...] = ()

RELEASE_NAME = "prompted-forge-mcp"
NAMESPACE = "prompted-forge-mcp"


def values_file_for(environment: str, chart: Path = CHART_DIR) -> Path:
    return chart / f"values-{environment}.yaml"


@dataclass(frozen=True)
class RenderSettings:
    """What decides a render besides the environment: the chart, the Kubernetes version and extra APIs it is
    rendered for, and the overlays layered over every environment's values file (--values). The command line
    builds one (policies/cli.py); the defaults are what `check` renders with."""

    chart: Path = CHART_DIR
    kube_version: str = DEFAULT_KUBE_VERSION
    api_versions: tuple[str, ...] = API_VERSIONS
    extra_values: tuple[Path, ...] = ()

    def values_files(self, environment: str) -> list[Path]:
        """The files helm is given for an environment: its own, then the overlays (values.yaml is the chart's)."""
        return [values_file_for(environment, self.chart), *self.extra_values]


# What `check` renders with when the command line changes nothing.
DEFAULT_SETTINGS = RenderSettings()


def helm_template_args(
    values_files: list[Path],
    settings: RenderSettings = DEFAULT_SETTINGS,
    *,
    release: str = RELEASE_NAME,
    namespace: str = NAMESPACE,
) -> list[str]:
    """`helm template` of the settings' chart with these values files (none: values.yaml alone)."""
    args = ["template", release, str(settings.chart), "--namespace", namespace, "--kube-version",
            settings.kube_version]
    for path in values_files:
        args += ["--values", str(path)]
    for api in settings.api_versions:
        args += ["--api-versions", api]
    return args


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


def lint_operation(environment: str, settings: RenderSettings = DEFAULT_SETTINGS) -> Operation:
    """`helm lint --strict` with the environment's values (helm lint takes no --api-versions)."""
    args = ["lint", "--strict", str(settings.chart), "--kube-version", settings.kube_version]
    for path in settings.values_files(environment):
        args += ["--values", str(path)]
    return Operation("lint", environment, tuple(args))


def template_operation(environment: str, settings: RenderSettings = DEFAULT_SETTINGS) -> Operation:
    """The same `helm template` command `render_environment` runs (values.yaml is the chart's own default)."""
    return Operation("template", environment, tuple(helm_template_args(settings.values_files(environment), settings)))


def package_operation(package_dir: Path, chart: Path = CHART_DIR) -> Operation:
    return Operation("package", None, ("package", str(chart), "--destination", str(package_dir)))


def operations(environments: Sequence[str], package_dir: Path, settings: RenderSettings = DEFAULT_SETTINGS
               ) -> list[Operation]:
    """What CI's helm validation runs: lint and template per environment, package once."""
    ops: list[Operation] = []
    for env in environments:
        ops.append(lint_operation(env, settings))
        ops.append(template_operation(env, settings))
    ops.append(package_operation(package_dir, settings.chart))
    return ops
