"""Render one environment with the real `helm template`, keeping where each value came from."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from policies import CHART_DIR
from policies.inputs.validation import schema_errors
from policies.inputs.yamlsource import KeyPath, SourcedYaml, load_yaml_file
from policies.render.helm import Helm, HelmError, HelmResult, find_helm
from policies.render.helmcalls import (
    DEFAULT_SETTINGS,
    RenderSettings,
    helm_template_args,
)
from policies.render.manifests import ManifestIndex, parse_manifests


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge key by key, everything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass(frozen=True)
class ValuesLayers:
    """values.yaml, the environment file and any extra files, in helm's precedence order."""

    files: tuple[SourcedYaml, ...]

    @cached_property  # read by several rules per environment; the layers never change
    def merged(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for sourced in self.files:
            merged = deep_merge(merged, sourced.data or {})
        return merged

    def decide(self, key_path: KeyPath) -> tuple[int, str, int | None] | None:
        """(layer index, file, line) of what decides key_path's value.

        Helm merges maps key by key and replaces everything else, so the deciding
        layer is the top-most one that writes the key itself, or writes a parent
        as a non-map (a list or scalar replaces whatever lower layers had
        beneath it). When no layer writes the key (the template's default
        applies), the top-most layer writing its deepest written parent.
        """
        key_path = tuple(key_path)
        for index in range(len(self.files) - 1, -1, -1):
            sourced = self.files[index]
            if sourced.defines(key_path):
                return index, str(sourced.path), sourced.line_of(key_path)
            for end in range(len(key_path) - 1, 0, -1):
                prefix = key_path[:end]
                if sourced.defines(prefix):
                    if not isinstance(_value_at(sourced.data, prefix), dict):
                        return index, str(sourced.path), sourced.line_of(prefix)
                    break
        for end in range(len(key_path) - 1, 0, -1):
            prefix = key_path[:end]
            for index in range(len(self.files) - 1, -1, -1):
                if self.files[index].defines(prefix):
                    return index, str(self.files[index].path), self.files[index].line_of(prefix)
        return None

    def locate(self, key_path: KeyPath) -> tuple[str, int | None] | None:
        """The file (and line) that decides key_path (see `decide`)."""
        decided = self.decide(key_path)
        return (decided[1], decided[2]) if decided else None

    def value(self, key_path: KeyPath) -> Any:
        """The merged value at key_path, or None when unset."""
        return _value_at(self.merged, key_path)


def _value_at(data: Any, key_path: KeyPath) -> Any:
    for part in key_path:
        within_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (within_list or (isinstance(data, dict) and part in data)):
            return None
        data = data[part]
    return data


def load_values_layers(environment: str, settings: RenderSettings = DEFAULT_SETTINGS) -> ValuesLayers:
    files = [chart_defaults(settings.chart / "values.yaml")]
    files.extend(load_yaml_file(path) for path in settings.values_files(environment))
    return ValuesLayers(tuple(files))


def chart_defaults(path: Path) -> SourcedYaml:
    """The chart's values.yaml, parsed once per run however many environments layer over it (an edit,
    seen by its size, modification time or inode, is parsed again)."""
    status = path.stat() if path.is_file() else None
    identity = (status.st_size, status.st_mtime_ns, status.st_ino) if status else None
    return _parsed(path, identity)


@lru_cache(maxsize=8)
def _parsed(path: Path, identity: tuple[int, int, int] | None) -> SourcedYaml:
    return load_yaml_file(path)  # read-only from here on: the layers are merged into copies


def check_values_schema(layers: ValuesLayers, chart: Path = CHART_DIR) -> None:
    """Validate the merged values against the chart's schema, naming the file and line to fix."""
    schema = chart / "values.schema.json"
    merged = SourcedYaml(path=chart / "values.yaml", data=layers.merged)
    errors = schema_errors(schema, merged, locate=layers.locate)
    if errors:
        raise errors[0]


@dataclass(frozen=True)
class Render:
    environment: str
    manifests: ManifestIndex
    layers: ValuesLayers
    seconds: float
    command: str
    helm_version: str
    kube_version: str
    text: str = field(repr=False, default="")

    @property
    def values(self) -> dict[str, Any]:
        return self.layers.merged


def render_environment(
    environment: str,
    settings: RenderSettings = DEFAULT_SETTINGS,
    *,
    helm: Helm | None = None,
    validate_values: bool = True,
) -> Render:
    """Render the chart for an environment; raises InputError (with helm's stderr) on failure."""
    layers = load_values_layers(environment, settings)
    if validate_values:
        check_values_schema(layers, settings.chart)
    helm = helm or find_helm()
    # values.yaml is the chart's own default; pass only the overlays.
    args = helm_template_args([Path(s.path) for s in layers.files[1:]], settings)
    try:
        result = helm.run(*args)
    except HelmError as exc:
        raise locate_failed_render(exc, layers) from None
    return render_from(environment, layers, result, helm.version_text, settings.kube_version)


# A template's `fail` reaches helm's error as "execution error at (<template>:<line>:<col>): <message>", the
# template being the one that included the check (deployment.yaml for the preflight checks), not the values
# line to change. The chart's convention (templates/_preflight.tpl) is that a preflight message begins with
# the dotted values key to change; that key, when some values layer writes it, is where the error points.
_FAIL_MESSAGE = re.compile(r"execution error at \([^)]*\): ([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def locate_failed_render(error: HelmError, layers: ValuesLayers) -> HelmError:
    """helm's error, pointed at the values line that decides the key its `fail` message begins with (the
    top-most layer writing it); unchanged when the message names no key a values layer writes."""
    named = _FAIL_MESSAGE.search(error.message)
    key = named.group(1) if named else ""
    key_path: KeyPath = tuple(key.split("."))
    decided = layers.decide(key_path) if any(sourced.defines(key_path) for sourced in layers.files) else None
    if decided is None:
        return error
    index, file, line = decided
    # The key's own column when that layer writes the key (not when a list or scalar parent replaced it).
    column = layers.files[index].columns.get(key_path)
    return HelmError(error.message, file=file, line=line, column=column, key=key)


def render_from(environment: str, layers: ValuesLayers, result: HelmResult, helm_version: str,
                kube_version: str) -> Render:
    """An environment's Render from its `helm template` run (policies/helmwork.py runs it ahead)."""
    manifests = ManifestIndex(parse_manifests(result.stdout, origin=f"helm template ({environment})"))
    return Render(environment, manifests, layers, result.seconds, result.command, helm_version, kube_version,
                  result.stdout)

