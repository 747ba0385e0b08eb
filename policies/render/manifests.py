"""Rendered manifests: parsed documents indexed by kind and name, each knowing its template."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from policies.core.docpath import dig
from policies.core.errors import InputError
from policies.inputs.inputlimits import Loader, compose_bounded, construct_bounded
from policies.inputs.jsonkeys import UnsupportedKey, json_key

_SOURCE = re.compile(r"^# Source: (?P<source>.+?)\s*$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---\s*$")
# One step of a finding's field path: `.key`, `[0]`, `[*]`, `[name=app]` or `["odd/key"]`.
_STEP = re.compile(r'\.?(?P<key>[^.\[\]]+)|\[(?P<index>\d+|\*)\]|\[name=(?P<named>[^\]]*)\]'
                   r'|\[(?P<quoted>"(?:[^"\\]|\\.)*")\]')
# Every kind that carries a pod template at spec.template (CronJob: one level deeper) or is a Pod.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
                  "Pod")
# Helm hooks are meant for objects that run to completion (https://helm.sh/docs/topics/charts_hooks/: Helm waits
# for a hook Job or Pod to finish): only those are the chart's hooks (the `helm test` pod). A long-running workload
# with the annotation keeps running and serving after the hook fires, so it counts like any other.
HOOK_KINDS = ("Pod", "Job")


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object and the template that produced it."""

    doc: dict[str, Any]
    source: str | None = None
    # Where the document starts in the file it was read from (for --manifests input).
    origin: str | None = None
    line: int | None = None
    # The document's own text and, for an item of a `List`, its path: fields are located lazily
    # (only findings need positions, and most runs have none).
    text: str | None = field(default=None, compare=False, repr=False)
    item_path: tuple[str | int, ...] = field(default=(), compare=False, repr=False)

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
        """Any object Helm handles as a hook (kept out of the release manifest), whatever its kind."""
        return "helm.sh/hook" in self.annotations

    @property
    def is_completion_hook(self) -> bool:
        """A run-to-completion helm hook (Pod or Job): exempt from the service's budget and rollout rules."""
        return self.kind in HOOK_KINDS and self.is_hook

    def pod_spec(self) -> dict[str, Any] | None:
        """The pod spec of a workload (Pod, Deployment, Job, CronJob, ...), else None.

        None too for a workload whose template (or a part on the way to it) is missing or null: such an object
        has no pod for the pod rules to judge, and pod.containers-present fails it."""
        if self.kind == "Pod":
            return self.doc.get("spec") or {}
        if self.kind in WORKLOAD_KINDS:
            return dig(self.doc, self.pod_spec_path())
        return None

    def pod_spec_path(self) -> str:
        return {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}.get(self.kind, "spec.template.spec")

    def position(self, field_path: str | None) -> tuple[int | None, int | None]:
        """1-based (line, column) of a field in the file the document was read from.

        A field that is not written (a default, or a `[*]` over many items) gives the
        line of its nearest written parent; without the document's text, its first line.
        """
        if self.text is None or self.line is None:
            return self.line, None
        node = _composed(self.text)
        if node is None:
            return self.line, None
        # `line` is where the document's content starts; marks count from the text's first line.
        first_line = self.line - node.start_mark.line
        mark = node.start_mark
        for step in (*self.item_path, *_steps(field_path or "")):
            found = _child(node, step)
            if found is None:
                break
            mark, node = found
        return first_line + mark.line, mark.column + 1


@lru_cache(maxsize=64)
def _composed(text: str) -> yaml.Node | None:
    """A document's node tree, composed once for all its findings (and all items of a `List`) rather than once
    per finding; position() only reads it."""
    return yaml.compose(text, Loader=Loader)


def _steps(field_path: str) -> list[str | int | tuple[str, str]]:
    """`spec.containers[name=app].ports[0]` -> ["spec", "containers", ("name", "app"), "ports", 0]."""
    steps: list[str | int | tuple[str, str]] = []
    for match in _STEP.finditer(field_path):
        if match["key"] is not None:
            steps.append(match["key"])
        elif match["index"] is not None:
            if match["index"] == "*":
                break  # every item: the list itself is the place to look
            steps.append(int(match["index"]))
        elif match["named"] is not None:
            steps.append(("name", match["named"]))
        else:
            steps.append(json.loads(match["quoted"]))
    return steps


def _child(node: yaml.Node, step: str | int | tuple[str, str]) -> tuple[yaml.Mark, yaml.Node] | None:
    """The mark to point at (a key, or a list item) and the node beneath it, or None when absent."""
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key_node, value_node in node.value:
            if _key_text(key_node) == step:
                return key_node.start_mark, value_node
    if isinstance(node, yaml.SequenceNode):
        if isinstance(step, int) and 0 <= step < len(node.value):
            return node.value[step].start_mark, node.value[step]
        if isinstance(step, tuple):
            for item in node.value:
                if isinstance(item, yaml.MappingNode) and any(
                        k.value == step[0] and getattr(v, "value", None) == step[1] for k, v in item.value):
                    return item.start_mark, item
    return None


def _key_text(node: yaml.Node) -> str | None:
    """A key as the document's data spells it (`1.50:` is the key "1.5"), so a finding finds its line."""
    try:
        return json_key(node)
    except UnsupportedKey:
        return None  # refused when the document was parsed; never a finding's field


def _documents(text: str) -> Iterator[tuple[int, str]]:
    """(first line, text) of each `---`-separated document; the first line counts from 1."""
    start, lines = 1, []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if _SEPARATOR.match(line.rstrip("\r\n")):
            yield start, "".join(lines)
            start, lines = number + 1, []
        else:
            lines.append(line)
    yield start, "".join(lines)


def parse_manifests(text: str, origin: str | Path = "<rendered>") -> list[Manifest]:
    """Split a multi-document render into Manifests, keeping each `# Source:` line."""
    manifests: list[Manifest] = []
    for first_line, chunk in _documents(text):
        match = _SOURCE.search(chunk)
        root = compose_bounded(chunk, origin, what=" in rendered manifests", line_offset=first_line - 1)
        doc = construct_bounded(chunk, root, origin, what=" in rendered manifests", line_offset=first_line - 1)
        if doc is None:
            continue
        start_line = first_line + _leading_blank_or_comment_lines(chunk)
        if not isinstance(doc, dict) or "kind" not in doc:
            raise InputError("expected a Kubernetes object with a `kind`", file=origin, line=start_line)
        source = match["source"] if match else None
        if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
            manifests.extend(Manifest(item, source, str(origin), start_line, chunk, ("items", index))
                             for index, item in enumerate(doc["items"]))
        else:
            manifests.append(Manifest(doc, source, str(origin), start_line, chunk))
    return manifests


def _leading_blank_or_comment_lines(chunk: str) -> int:
    count = 0
    for line in chunk.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        count += 1
    return count


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
        return [m for m in self._all if m.pod_spec() is not None and (include_hooks or not m.is_completion_hook)]

    def docs(self) -> list[dict[str, Any]]:
        """Copies of the documents: renders are cached and shared, so callers may edit these freely."""
        return [copy.deepcopy(m.doc) for m in self._all]
