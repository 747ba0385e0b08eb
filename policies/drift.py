"""Environment drift guard: an environment may differ from the chart defaults only where declared.

Each environment's render is compared (deepdiff, through policies.diffing) with
the base render, the chart's values.yaml alone. policies/drift.yaml lists the
manifest paths where environments may differ, each with the values key that
drives it and the reason; any other difference is a `drift.unexpected` failure
naming the environment, the resource and the field path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from policies import CHART_DIR, PACKAGE_DIR
from policies.diffing import Difference, describe, diff_documents, index_documents
from policies.errors import InputError
from policies.findings import Finding, failure
from policies.helm import DEFAULT_KUBE_VERSION, Helm, find_helm
from policies.manifests import ManifestIndex, parse_manifests
from policies.paths import display_path
from policies.render import Render, helm_template_args
from policies.yamlsource import load_yaml_file

DRIFT_FILE = PACKAGE_DIR / "drift.yaml"
RULES = {
    "drift.unexpected": "environments differ from the chart defaults only where policies/drift.yaml allows",
}
_ENTRY_KEYS = {"resource", "paths", "values", "environments", "reason"}


@dataclass(frozen=True)
class AllowedDrift:
    """Where environments may differ: a resource pattern and, optionally, paths within it."""

    resource: str
    # Empty: the whole object may differ, including whether it exists at all.
    paths: tuple[str, ...]
    values: tuple[str, ...]
    # Empty: every environment.
    environments: tuple[str, ...]
    reason: str
    line: int | None = None

    def allows(self, environment: str, difference: Difference) -> bool:
        if self.environments and environment not in self.environments:
            return False
        if not _pattern(self.resource, subtree=False).match(difference.resource):
            return False
        if not self.paths:
            return True
        path = difference.path
        return bool(path) and any(_pattern(pattern, subtree=True).match(path) for pattern in self.paths)


def load_allowed(path: Path = DRIFT_FILE) -> list[AllowedDrift]:
    """The allowed differences, validated; a malformed entry is an InputError naming its line and key."""
    sourced = load_yaml_file(path)
    data = sourced.data
    if not isinstance(data, dict) or not isinstance(data.get("allowed"), list):
        raise InputError("expected a map with an `allowed` list", file=path, line=1, key="allowed")
    entries: list[AllowedDrift] = []
    for index, entry in enumerate(data["allowed"]):
        line = sourced.line_of(("allowed", index))

        def bad(message: str, key: str, entry_line: int | None = line, at: int = index) -> InputError:
            return InputError(message, file=path, line=entry_line, key=f"allowed[{at}].{key}")

        if not isinstance(entry, dict):
            raise bad(f"expected a map with keys {', '.join(sorted(_ENTRY_KEYS))}, found {describe(entry)}",
                      "")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise bad(f"unknown key; expected one of: {', '.join(sorted(_ENTRY_KEYS))}", unknown[0],
                      sourced.line_of(("allowed", index, unknown[0])))
        if not isinstance(entry.get("resource"), str) or "/" not in entry["resource"]:
            raise bad(f"expected `Kind/name` (a name may use *), found {describe(entry.get('resource'))}",
                      "resource")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise bad("every allowed difference needs a reason (why environments may differ here)", "reason")
        lists = {}
        for key in ("paths", "values", "environments"):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
                raise bad(f"expected a list of strings, found {describe(value)}", key,
                          sourced.line_of(("allowed", index, key)))
            lists[key] = tuple(value)
        entries.append(AllowedDrift(entry["resource"], lists["paths"], lists["values"], lists["environments"],
                                    entry["reason"].strip(), line))
    return entries


def render_base(
    *,
    kube_version: str = DEFAULT_KUBE_VERSION,
    api_versions: tuple[str, ...] = (),
    helm: Helm | None = None,
    chart: Path = CHART_DIR,
) -> ManifestIndex:
    """The chart rendered with its values.yaml alone: what every environment is a diff over."""
    helm = helm or find_helm()
    result = helm.run(*helm_template_args([], kube_version, api_versions, chart))
    return ManifestIndex(parse_manifests(result.stdout, origin="helm template (values.yaml alone)"))


def check_drift(
    environment: str,
    render: Render | ManifestIndex,
    base_render: Render | ManifestIndex,
    allowed: list[AllowedDrift],
) -> list[Finding]:
    """One `drift.unexpected` failure per difference from the base render that no entry allows."""
    manifests = _manifests(render)
    base = _manifests(base_render)
    sources = {m.ref: m.source for m in [*base, *manifests]}
    values_file = _environment_file(render)
    findings: list[Finding] = []
    for difference in diff_documents(index_documents(base), index_documents(manifests)):
        if any(entry.allows(environment, difference) for entry in allowed):
            continue
        findings.append(failure(
            "drift.unexpected",
            _message(environment, difference),
            environment=environment,
            resource=difference.resource,
            field=difference.path or None,
            expected=describe(difference.old),
            actual=describe(difference.new),
            file=values_file,
            source=sources.get(difference.resource),
        ))
    return findings


def _message(environment: str, difference: Difference) -> str:
    where = "policies/drift.yaml"
    if not difference.path:
        verb = "renders" if describe(difference.old) == "(absent)" else "does not render"
        return (f"{environment} {verb} {difference.resource}, unlike the chart defaults; "
                f"{where} does not allow it")
    return (f"{environment} sets {difference.resource} {difference.path} differently from the chart defaults "
            f"(values.yaml alone), and {where} does not allow environments to differ there")


def _manifests(render: Render | ManifestIndex) -> ManifestIndex:
    return render.manifests if isinstance(render, Render) else render


def _environment_file(render: Render | ManifestIndex) -> str | None:
    """The environment's values file: where an unexpected difference is usually fixed."""
    if not isinstance(render, Render) or len(render.layers.files) < 2:
        return None
    return display_path(render.layers.files[1].path)


def _pattern(text: str, subtree: bool) -> re.Pattern[str]:
    """`*` matches within one path segment; a path pattern also matches everything beneath it."""
    body = "[^.\\[\\]/]*".join(re.escape(piece) for piece in text.split("*"))
    return re.compile(f"^{body}" + ("(?=$|[.\\[])" if subtree else "$"))

