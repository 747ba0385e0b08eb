"""Rendered manifests: parsed documents indexed by kind and name, each knowing its template."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from policies.errors import InputError
from policies.yamlsource import Loader

_SOURCE = re.compile(r"^# Source: (?P<source>.+?)\s*$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---\s*$", re.MULTILINE)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object and the template that produced it."""

    doc: dict[str, Any]
    source: str | None = None
    # Where the document starts in the file it was read from (for --manifests input).
    origin: str | None = None
    line: int | None = None

    @property
    def origin_is_file(self) -> bool:
        """True when the document was read from a manifests file rather than rendered here."""
        return bool(self.origin) and not str(self.origin).startswith("helm template")

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.doc.get("metadata", {}).get("name", ""))

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def annotations(self) -> dict[str, str]:
        return self.doc.get("metadata", {}).get("annotations") or {}

    @property
    def is_hook(self) -> bool:
        return "helm.sh/hook" in self.annotations

    def pod_spec(self) -> dict[str, Any] | None:
        """The pod spec of a workload (Pod, Deployment, Job, CronJob, ...), else None."""
        if self.kind == "Pod":
            return self.doc.get("spec") or {}
        if self.kind == "CronJob":
            return (((self.doc.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get(
                "template", {}).get("spec")
        if self.kind in WORKLOAD_KINDS:
            return ((self.doc.get("spec") or {}).get("template") or {}).get("spec")
        return None

    def pod_spec_path(self) -> str:
        return {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}.get(self.kind, "spec.template.spec")


def parse_manifests(text: str, origin: str | Path = "<rendered>") -> list[Manifest]:
    """Split a multi-document render into Manifests, keeping each `# Source:` line."""
    manifests: list[Manifest] = []
    offset_line = 1
    for chunk in _SEPARATOR.split(text):
        match = _SOURCE.search(chunk)
        try:
            doc = yaml.load(chunk, Loader=Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            raise InputError(
                f"malformed YAML in rendered manifests: {exc.problem}",
                file=origin,
                line=offset_line + mark.line if mark else None,
            ) from None
        start_line = offset_line + len(chunk) - len(chunk.lstrip("\n"))
        offset_line += chunk.count("\n") + 1
        if doc is None:
            continue
        if not isinstance(doc, dict) or "kind" not in doc:
            raise InputError("expected a Kubernetes object with a `kind`", file=origin, line=start_line)
        source = match["source"] if match else None
        items = doc["items"] if doc["kind"].endswith("List") and isinstance(doc.get("items"), list) else [doc]
        manifests.extend(Manifest(item, source, str(origin), start_line) for item in items)
    return manifests


class ManifestIndex:
    """Lookup of rendered objects by kind and name; a miss lists what exists."""

    def __init__(self, manifests: Iterable[Manifest]) -> None:
        self._all = list(manifests)

    def __iter__(self) -> Iterator[Manifest]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def refs(self) -> list[str]:
        return [m.ref for m in self._all]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self._all if m.kind == kind]

    def get(self, kind: str, name: str | None = None) -> Manifest:
        """The one object of a kind (and name); raises LookupError listing what exists."""
        found = [m for m in self.of_kind(kind) if name is None or m.name == name]
        if len(found) == 1:
            return found[0]
        wanted = f"{kind}/{name}" if name else kind
        if not found:
            raise LookupError(f"no {wanted} in the render; it has: {', '.join(self.refs()) or 'nothing'}")
        raise LookupError(f"{len(found)} objects match {wanted}: {', '.join(m.ref for m in found)}")

    def workloads(self, include_hooks: bool = False) -> list[Manifest]:
        return [m for m in self._all if m.pod_spec() is not None and (include_hooks or not m.is_hook)]

    def docs(self) -> list[dict[str, Any]]:
        """Copies of the documents: renders are cached and shared, so callers may edit these freely."""
        return [copy.deepcopy(m.doc) for m in self._all]
