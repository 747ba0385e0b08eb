"""Strict Kubernetes schema validation of rendered manifests, offline, for every supported version.

Built-in kinds use the strict (unknown-field-rejecting) OpenAPI schemas bundled by
kubernetes-validate; kinds it does not know use the pinned CRD schemas in
policies/crds/. Its own `validate()` re-reads the 1.3 MB definitions file on every
call, so this module builds one jsonschema validator per (kind, apiVersion, Kubernetes
version) and keeps it. A kind with no schema anywhere is a failure, never a skip.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from policies import CHART_DIR, PACKAGE_DIR
from policies.checks.chartmeta import minors_in_range
from policies.core.docpath import key_step
from policies.core.errors import InputError
from policies.core.findings import Finding, failure
from policies.core.ruledecl import Rule, declare
from policies.inputs.yamlsource import load_yaml_file
from policies.render.manifests import Manifest

RULE = "schema.kubernetes"
UNKNOWN_KIND_RULE = "schema.kubernetes.unknown-kind"
# The control every rule below implements.
STRICT_SCHEMAS = "Kubernetes OpenAPI schemas (strict), every version in Chart.yaml kubeVersion"
RULES = declare(
    Rule(RULE, "every rendered document is valid, strictly, for each Kubernetes version in the chart's range",
         control=STRICT_SCHEMAS),
    Rule(UNKNOWN_KIND_RULE, "every rendered kind has a schema (built in or a pinned CRD)",
         control=STRICT_SCHEMAS),
)
CRD_DIR = PACKAGE_DIR / "crds"
SCHEMA_ROOT = Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_ACTUAL_LIMIT = 120


def bundled_versions() -> tuple[str, ...]:
    """The `major.minor` Kubernetes versions kubernetes-validate ships strict schemas for."""
    found = {p.name[1:].split("-")[0] for p in SCHEMA_ROOT.glob("v*-local-strict")}
    minors = {".".join(v.split(".")[:2]) for v in found}
    return tuple(sorted(minors, key=lambda v: tuple(int(p) for p in v.split("."))))


@cache
def chart_kube_versions(chart: Path = CHART_DIR) -> tuple[str, ...]:
    """Every bundled Kubernetes minor inside the chart's `kubeVersion` range, oldest first."""
    chart_yaml = load_yaml_file(chart / "Chart.yaml")
    range_text = chart_yaml.data.get("kubeVersion")
    line = chart_yaml.line_of(("kubeVersion",))
    if not isinstance(range_text, str) or not range_text:
        raise InputError("no kubeVersion range to validate against", file=chart_yaml.path, line=line,
                         key="kubeVersion")
    try:
        versions = minors_in_range(range_text, bundled_versions())
    except ValueError as exc:
        raise InputError(f"invalid kubeVersion range {range_text!r}: {exc}", file=chart_yaml.path, line=line,
                         key="kubeVersion") from None
    if not versions:
        raise InputError(f"kubeVersion {range_text!r} contains none of the Kubernetes versions with bundled "
                         f"schemas ({', '.join(bundled_versions())})", file=chart_yaml.path, line=line,
                         key="kubeVersion")
    return versions


# -- schemas -----------------------------------------------------------------------------------


def _schema_dir(kube_version: str) -> Path:
    minor = ".".join(kube_version.lstrip("v").split(".")[:2])
    directory = SCHEMA_ROOT / f"v{minor}.0-local-strict"
    if not directory.is_dir():
        raise InputError(f"no bundled schemas for Kubernetes {kube_version}; kubernetes-validate "
                         f"{kubernetes_validate.__version__} has {', '.join(bundled_versions())}")
    return directory


def _load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _definitions(kube_version: str) -> tuple[Registry, str]:
    """The version's shared definitions (1.3 MB) as a registry, loaded once per version."""
    definitions = _load_json(_schema_dir(kube_version) / "_definitions.json")
    return Resource.from_contents(definitions) @ Registry(), definitions["$id"]


def _matches(schema: dict[str, Any], kind: str, api_version: str) -> bool:
    group, _, version = api_version.rpartition("/")
    return any(
        gvk.get("kind") == kind and gvk.get("group", "") == group and gvk.get("version") == version
        for gvk in schema.get("x-kubernetes-group-version-kind", [])
    )


def _builtin_schema(kind: str, api_version: str, kube_version: str) -> dict[str, Any] | None:
    group, _, version = api_version.rpartition("/")
    # kubernetes-validate names files <kind>-<first label of the group>-<version>.json
    suffix = f"{group.split('.')[0]}-{version}" if group else version
    path = _schema_dir(kube_version) / f"{kind.lower()}-{suffix}.json"
    if not path.is_file():
        return None
    schema = _load_json(path)
    return schema if _matches(schema, kind, api_version) else None


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """The pinned CRD schemas in policies/crds/, by (apiVersion, kind)."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        schema = _load_json(path)
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            schemas[(f"{gvk['group']}/{gvk['version']}", gvk["kind"])] = schema
    return schemas


def close_objects(schema: Any) -> Any:
    """Strict mode for a CRD schema: every object that lists its properties rejects others,
    as the API server's field validation does (unless it preserves unknown fields)."""
    if isinstance(schema, dict):
        closed = {key: close_objects(value) for key, value in schema.items()}
        if (
            "properties" in closed
            and "additionalProperties" not in closed
            and not closed.get("x-kubernetes-preserve-unknown-fields")
        ):
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [close_objects(item) for item in schema]
    return schema


def _crd_schema(kind: str, api_version: str, definitions_id: str) -> dict[str, Any] | None:
    schema = crd_schemas().get((api_version, kind))
    if schema is None:
        return None
    strict = close_objects(copy.deepcopy(schema))
    # The API server validates metadata as ObjectMeta for every kind; do the same.
    strict["properties"]["metadata"] = {"$ref": f"{definitions_id}#/$defs/{OBJECT_META}"}
    strict.setdefault("$id", f"urn:policies:crds:{api_version}:{kind}")
    return strict


@cache
def validator_for(kind: str, api_version: str, kube_version: str) -> jsonschema.protocols.Validator | None:
    """A strict validator for one (kind, apiVersion, Kubernetes version), built once; None if no schema."""
    registry, definitions_id = _definitions(kube_version)
    schema = _builtin_schema(kind, api_version, kube_version)
    if schema is None:
        schema = _crd_schema(kind, api_version, definitions_id)
    if schema is None:
        return None
    return jsonschema.Draft202012Validator(schema, registry=registry)


# -- findings ----------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= _ACTUAL_LIMIT else text[: _ACTUAL_LIMIT - 1] + "…"


def _field(path: Sequence[str | int]) -> str:
    """A field path as findings write it; a key with a dot in it (`app.kubernetes.io/name`, a label or an
    annotation) is quoted, `metadata.labels["app.kubernetes.io/name"]`, so its line can be found."""
    return "".join(f"[{part}]" if isinstance(part, int) else key_step(part) for part in path).removeprefix(".")


def _describe(error: jsonschema.ValidationError) -> tuple[str, str, str, str]:
    """(field path, expected, actual, message) for one schema error."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        unknown = sorted(key for key in error.instance if key not in known)
        field = _field((*path, unknown[0])) if unknown else _field(path)
        expected = f"one of: {', '.join(sorted(known))}" if known else "no fields"
        return field, expected, ", ".join(unknown), f"unknown field {', '.join(map(repr, unknown))}"
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _describe(jsonschema.exceptions.best_match(error.context))
    expected = f"{error.validator}: {_short(error.validator_value)}"
    return _field(path), expected, _short(error.instance), error.message


def _where(manifest: Manifest, field: str | None) -> dict[str, Any]:
    if manifest.source:
        return {"source": manifest.source}
    line, column = manifest.position(field)
    return {"file": manifest.origin, "line": line, "column": column}


def _unknown_kind(manifest: Manifest, environment: str, versions: Sequence[str]) -> Finding:
    api_version = manifest.doc.get("apiVersion") or "(no apiVersion)"
    return failure(
        UNKNOWN_KIND_RULE,
        f"{manifest.ref} ({api_version}): no schema for this kind in Kubernetes {', '.join(versions)} "
        f"nor in {CRD_DIR.relative_to(PACKAGE_DIR.parent)}/; add the CRD's schema there",
        environment=environment, resource=manifest.ref, field="kind",
        expected="a built-in kind or a pinned CRD schema", actual=f"{api_version} {manifest.kind}",
        **_where(manifest, "kind"),
    )


# (field, actual, message) -> (expected, versions that reject it); and the versions with no schema.
Problems = tuple[dict[tuple[str, str, str], tuple[str, list[str]]], list[str]]


@lru_cache(maxsize=4096)
def _document_problems(kind: str, api_version: str, document: str, kube_versions: tuple[str, ...]) -> Problems:
    """Validate one serialized document; cached, since most objects repeat across environments."""
    doc = json.loads(document)
    problems: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    missing: list[str] = []
    for version in kube_versions:
        validator = validator_for(kind, api_version, version) if api_version else None
        if validator is None:
            missing.append(version)
            continue
        for error in validator.iter_errors(doc):
            field, expected, actual, message = _describe(error)
            rejecting = problems.get((field, actual, message), ("", []))[1]
            problems[(field, actual, message)] = (expected, [*rejecting, version])
    return problems, missing


def validate_manifests(
    manifests: Iterable[Manifest], kube_versions: Sequence[str], environment: str
) -> list[Finding]:
    """Strictly validate every document against every Kubernetes version; one finding per problem,
    naming the versions that reject it."""
    findings: list[Finding] = []
    for manifest in manifests:
        api_version = str(manifest.doc.get("apiVersion") or "")
        document = json.dumps(manifest.doc, sort_keys=True, default=str)
        problems, missing = _document_problems(manifest.kind, api_version, document, tuple(kube_versions))
        if missing:
            findings.append(_unknown_kind(manifest, environment, missing))
        for (field, actual, message), (expected, versions) in problems.items():
            findings.append(failure(
                RULE,
                f"{manifest.ref}: {field or '(document)'}: {message} (Kubernetes {', '.join(versions)}, "
                f"strict schema)",
                environment=environment, resource=manifest.ref, field=field, expected=expected, actual=actual,
                **_where(manifest, field),
            ))
    return findings
