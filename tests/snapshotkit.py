"""Golden renders: each environment's full render, normalized and committed under tests/snapshots/.

A template edit that changes more than intended shows up as a difference
against the committed render, named `Kind/name field.path: old -> new`.
`make snapshots` rewrites the files; the diff is reviewed like code.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from policies import REPO_ROOT
from policies.core.atomic import write_text_atomic
from policies.core.errors import InputError
from policies.render.diffing import Difference, diff_documents, index_documents
from policies.render.manifests import Manifest

SNAPSHOT_DIR = REPO_ROOT / "tests" / "snapshots"
# `make snapshots` sets this to rewrite the golden renders instead of comparing.
UPDATE_VARIABLE = "UPDATE_SNAPSHOTS"

# Volatile fields, replaced with a placeholder rather than dropped, so that
# removing one (say the checksum annotation, which rolls pods when the config
# changes) still fails the comparison.
#
# - helm.sh/chart ("<chart>-<version>") changes with every Chart.yaml version
#   bump, and app.kubernetes.io/version with every appVersion bump; both sit on
#   every object and pod template, so one release would otherwise rewrite a line
#   in every resource without any rendered behaviour changing. The image
#   reference is NOT normalized: an appVersion bump changes what runs, and the
#   golden render shows that once, in the Deployment.
# - checksum/* pod annotations are hashes of other rendered objects (the
#   ConfigMap); the real change already shows, readably, in that object's
#   fields, and the hash would only add an unreadable second line.
VOLATILE_LABELS = {
    "helm.sh/chart": "<normalized: chart name and version>",
    "app.kubernetes.io/version": "<normalized: app version>",
}
VOLATILE_ANNOTATION_PREFIXES = ("checksum/",)
CHECKSUM_PLACEHOLDER = "<normalized: checksum>"


def snapshot_path(environment: str, directory: Path = SNAPSHOT_DIR) -> Path:
    return directory / f"{environment}.yaml"


def normalize(manifests: Iterable[Manifest]) -> dict[str, dict[str, Any]]:
    """`Kind/name` -> object, sorted by kind then name, volatile fields replaced by placeholders."""
    return {ref: _normalize_node(copy.deepcopy(doc)) for ref, doc in index_documents(manifests).items()}


def dump_snapshot(environment: str, manifests: Iterable[Manifest]) -> str:
    """The golden render file: one YAML document per object, keys sorted, a comment naming each."""
    manifests = list(manifests)
    sources = {m.ref: m.source for m in manifests}
    parts = [
        f"# Golden render of the `{environment}` environment, normalized by tests/snapshotkit.py.\n"
        "# Regenerate with `make snapshots` and review the diff like code.\n"
    ]
    for ref, doc in normalize(manifests).items():
        source = f" (from {sources[ref]})" if sources.get(ref) else ""
        body = yaml.dump(doc, Dumper=_SnapshotDumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=100)
        parts.append(f"---\n# {ref}{source}\n{body}")
    return "".join(parts)


def write_snapshot(environment: str, manifests: Iterable[Manifest], directory: Path = SNAPSHOT_DIR) -> Path:
    return write_text_atomic(snapshot_path(environment, directory), dump_snapshot(environment, manifests))


def load_snapshot(path: Path) -> dict[str, dict[str, Any]]:
    """A committed golden render as `Kind/name` -> object; raises FileNotFoundError when missing."""
    text = path.read_text(encoding="utf-8")
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(f"malformed golden render: {exc.problem}; regenerate it with `make snapshots`",
                         file=path, line=mark.line + 1 if mark else None) from None
    try:
        return index_documents(docs)
    except ValueError as exc:
        raise InputError(f"{exc}; regenerate it with `make snapshots`", file=path) from None


def summarize(differences: Iterable[Difference | str], limit: int = 40) -> str:
    """A multi-line report for an assertion message, cut after `limit` lines."""
    lines = [str(d) for d in differences]
    shown = [f"  {line}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"  ... and {len(lines) - limit} more")
    return "\n".join(shown)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def update_requested() -> bool:
    return os.environ.get(UPDATE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def create_missing(
    environment: str, manifests: Iterable[Manifest], directory: Path = SNAPSHOT_DIR
) -> Path | None:
    """Write a golden render that does not exist yet and return its path; None when it exists.

    In CI a missing golden render is an error: it is never created silently
    during a CI run, where nobody would review it.
    """
    path = snapshot_path(environment, directory)
    if path.exists():
        return None
    if running_in_ci():
        raise InputError(f"no golden render for `{environment}` (CI is set, so it is not created here); "
                         "run `make snapshots` and commit the file", file=path)
    return write_snapshot(environment, manifests, directory)


def compare_snapshot(
    environment: str, manifests: Iterable[Manifest], directory: Path = SNAPSHOT_DIR
) -> list[Difference]:
    """Differences from the committed golden render (old = committed, new = this render)."""
    return diff_documents(load_snapshot(snapshot_path(environment, directory)), normalize(manifests))


def _normalize_node(node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "labels" and isinstance(value, dict):
                for label, placeholder in VOLATILE_LABELS.items():
                    if label in value:
                        value[label] = placeholder
            elif key == "annotations" and isinstance(value, dict):
                for annotation in value:
                    if annotation.startswith(VOLATILE_ANNOTATION_PREFIXES):
                        value[annotation] = CHECKSUM_PLACEHOLDER
            _normalize_node(value)
    elif isinstance(node, list):
        for item in node:
            _normalize_node(item)
    return node


class _SnapshotDumper(yaml.SafeDumper):
    """Multi-line strings (the test script, PromQL) as literal blocks, so their diffs read line by line."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_SnapshotDumper.add_representer(str, _represent_str)
