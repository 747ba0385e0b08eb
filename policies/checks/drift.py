"""Environment drift guard: an environment may differ from the chart defaults only where declared.

Each environment's render is compared (deepdiff, through policies.render.diffing) with
the base render, the chart's values.yaml alone. policies/drift.yaml lists the
manifest paths where environments may differ, each with the values key that
drives it and the reason; any other difference is a `drift.unexpected` failure
naming the environment, the resource and the field path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies import PACKAGE_DIR
from policies.core.errors import InputError
from policies.core.findings import Finding, failure
from policies.core.paths import display_path
from policies.core.ruledecl import Rule, declare
from policies.inputs.yamlsource import KeyPath, dotted, load_yaml_file
from policies.render.diffing import Difference, describe, diff_documents, index_documents
from policies.render.helm import Helm, find_helm
from policies.render.helmcalls import DEFAULT_SETTINGS, RenderSettings, helm_template_args
from policies.render.manifests import ManifestIndex, parse_manifests
from policies.render.render import Render, ValuesLayers
from policies.render.rendercache import cached_stdout

DRIFT_FILE = PACKAGE_DIR / "drift.yaml"
RULES = declare(
    Rule("drift.unexpected", "environments differ from the chart defaults only where policies/drift.yaml allows",
         control="project: policies/drift.yaml lists the allowed differences"),
)
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


def render_base(settings: RenderSettings = DEFAULT_SETTINGS, *, helm: Helm | None = None) -> ManifestIndex:
    """The chart rendered with its values.yaml alone (no overlays): what every environment is a diff over.

    Untimed, so kept between runs by content (policies/render/rendercache.py).
    """
    helm = helm or find_helm()
    return base_manifests(cached_stdout(helm, helm_template_args([], settings), settings.chart))


def base_manifests(text: str) -> ManifestIndex:
    return ManifestIndex(parse_manifests(text, origin="helm template (values.yaml alone)"))


def check_drift(
    environment: str,
    render: Render | ManifestIndex,
    base_render: Render | ManifestIndex,
    allowed: list[AllowedDrift],
) -> list[Finding]:
    """One `drift.unexpected` failure per cause: differences no entry allows, grouped by the value behind them.

    A difference is pinned on the environment's value whose text it renders (an
    overlay's `image.tag` shows in the image and in every version label); the
    rendered field the value reaches first in its own right (not a label) leads,
    the rest are listed as its consequences. A difference no changed value
    explains points at the template that rendered it.
    """
    manifests = _manifests(render)
    base = _manifests(base_render)
    sources = {m.ref: m.source for m in [*base, *manifests]}
    changed = changed_values(render.layers) if isinstance(render, Render) else []
    # Keyed by the values key behind the differences, else by a fresh object (the difference alone).
    causes: dict[object, list[Difference]] = {}
    for difference in diff_documents(index_documents(base), index_documents(manifests)):
        if any(entry.allows(environment, difference) for entry in allowed):
            continue
        cause = _cause(difference, changed)
        causes.setdefault(cause if cause is not None else object(), []).append(difference)
    findings: list[Finding] = []
    for cause, differences in causes.items():
        lead = next((d for d in differences if not _is_label(d.path)), differences[0])
        consequences = [d for d in differences if d is not lead]
        located: dict[str, object] = {"source": sources.get(lead.resource)}
        if isinstance(cause, tuple) and isinstance(render, Render):
            where = render.layers.locate(cause)
            located = {"values_key": cause, **({"file": display_path(where[0]), "line": where[1]} if where else {})}
        findings.append(failure(
            "drift.unexpected",
            _message(environment, lead, cause if isinstance(cause, tuple) else None, consequences),
            environment=environment,
            resource=lead.resource,
            field=lead.path or None,
            expected=describe(lead.old),
            actual=describe(lead.new),
            affects=tuple(f"{d.resource} {d.path}".strip() for d in differences) if consequences else (),
            **located,
        ))
    return findings


def changed_values(layers: ValuesLayers) -> list[tuple[KeyPath, Any]]:
    """(key path, value) of every leaf where the layered values differ from values.yaml alone."""
    defaults = layers.files[0].data or {}
    found: list[tuple[KeyPath, Any]] = []

    def walk(value: Any, default: Any, path: KeyPath) -> None:
        if isinstance(value, dict) and isinstance(default, dict):
            for key, item in value.items():
                walk(item, default.get(key, _MISSING), (*path, key))
        elif value != default:
            found.append((path, value))

    walk(layers.merged, defaults, ())
    return found


_MISSING = object()


def _cause(difference: Difference, changed: list[tuple[KeyPath, Any]]) -> KeyPath | None:
    """The changed value that best explains a difference: rendered whole, else inside a longer text.

    Numbers and booleans explain only an equal rendered value ("2" is inside too
    many texts); strings also explain a text containing them that the defaults'
    render did not. The longest such text wins, as the most specific.
    """
    new, old = difference.new, difference.old
    best: tuple[int, KeyPath] | None = None
    for key_path, value in changed:
        if isinstance(value, dict | list) or value is None or value == "":
            continue
        if new == value and type(new) is type(value):
            score = 10**6
        elif isinstance(value, str) and isinstance(new, str) and len(value) >= 3 and value in new and (
                not isinstance(old, str) or value not in old):
            score = len(value)
        else:
            continue
        if best is None or score > best[0]:
            best = (score, key_path)
    return best[1] if best else None


def _is_label(path: str) -> bool:
    return ".labels[" in f".{path}" or ".labels." in f".{path}"


def _message(environment: str, difference: Difference, cause: KeyPath | None,
             consequences: list[Difference]) -> str:
    where = "policies/drift.yaml"
    if not difference.path:
        verb = "renders" if describe(difference.old) == "(absent)" else "does not render"
        text = (f"{environment} {verb} {difference.resource}, unlike the chart defaults; "
                f"{where} does not allow it")
    else:
        text = (f"{environment} sets {difference.resource} {difference.path} differently from the chart defaults "
                f"(values.yaml alone), and {where} does not allow environments to differ there")
    if cause is not None:
        text += f"; the value behind it is {dotted(cause)}"
    if consequences:
        text += f"; the same value also changes {_consequences(consequences)}"
    return text


def _consequences(differences: list[Difference]) -> str:
    """`the app.kubernetes.io/version label in 6 places (on ...)` rather than six findings that say the same."""
    by_field: dict[str, list[str]] = {}
    for difference in differences:
        by_field.setdefault(_field_name(difference.path), []).append(difference.resource)
    parts = []
    for name, resources in by_field.items():
        places = f"{len(resources)} places" if len(resources) > 1 else "1 place"
        parts.append(f"{name} in {places} (on {', '.join(dict.fromkeys(resources))})")
    return "; ".join(parts)


def _field_name(path: str) -> str:
    """The last step of a path, labels by their key: `the app.kubernetes.io/version label`."""
    match = re.search(r'labels\["([^"]+)"\]$', path) or re.search(r"labels\.([\w-]+)$", path)
    if match:
        return f"the {match[1]} label"
    return path or "the object"


def _manifests(render: Render | ManifestIndex) -> ManifestIndex:
    return render.manifests if isinstance(render, Render) else render


def _pattern(text: str, subtree: bool) -> re.Pattern[str]:
    """`*` matches within one path segment; a path pattern also matches everything beneath it."""
    body = "[^.\\[\\]/]*".join(re.escape(piece) for piece in text.split("*"))
    return re.compile(f"^{body}" + ("(?=$|[.\\[])" if subtree else "$"))

