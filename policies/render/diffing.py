"""What changed between two renders, said one way: `Kind/name field.path: old -> new`.

Golden renders, the environment drift guard and the Helm 3 / Helm 4 parity
check all compare parsed objects with deepdiff and report through this module,
so the three read alike.

Lists whose items all carry a unique `name` (containers, ports, env, volumes)
are compared by name rather than position: adding the `metrics` port then reads
as `ports[name=metrics]` added, not as every later port having changed. Only a
pure reordering of such a list is reported by index.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from policies.core.docpath import mapping_at
from policies.render.manifests import Manifest


class _Absent:
    """The value on the side where a field or object does not exist."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MAX_VALUE_CHARS = 120


@dataclass(frozen=True)
class _Named:
    """A list item addressed by its `name` in a field path."""

    name: str


class _NamedList(dict):
    """A list of named items, viewed as a map from name to item for diffing."""


@dataclass(frozen=True)
class Difference:
    """One changed field (or a whole object, when `path` is empty) between two renders."""

    resource: str
    path: str
    old: Any = ABSENT
    new: Any = ABSENT

    def __str__(self) -> str:
        where = f"{self.resource} {self.path}" if self.path else self.resource
        if isinstance(self.old, str) and isinstance(self.new, str) and "\n" in self.old + self.new:
            return f"{where}: text changed (old -> new):\n" + "\n".join(_changed_lines(self.old, self.new))
        return f"{where}: {describe(self.old)} -> {describe(self.new)}"


def index_documents(objects: Iterable[Manifest] | Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`Kind/name` -> object, sorted by kind then name; two objects with one ref is an error."""
    indexed: dict[str, dict[str, Any]] = {}
    for item in objects:
        doc = item.doc if isinstance(item, Manifest) else item
        ref = f"{doc.get('kind', '')}/{mapping_at(doc, 'metadata').get('name', '')}"
        if ref in indexed:
            raise ValueError(f"two rendered objects are both {ref}; cannot tell which to compare")
        indexed[ref] = doc
    return dict(sorted(indexed.items(), key=lambda item: tuple(item[0].split("/", 1))))


def diff_documents(old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]]) -> list[Difference]:
    """Every difference between two `Kind/name` -> object maps, ordered by resource then path."""
    differences: list[Difference] = []
    for ref in sorted(old.keys() | new.keys()):
        if ref not in new:
            differences.append(Difference(ref, "", old[ref], ABSENT))
        elif ref not in old:
            differences.append(Difference(ref, "", ABSENT, new[ref]))
        else:
            differences.extend(diff_object(ref, old[ref], new[ref]))
    return differences


def diff_object(resource: str, old: Any, new: Any) -> list[Difference]:
    """The field-level differences of one object (list items matched by name where they have one)."""
    if old == new:  # most objects are unchanged; plain equality is far cheaper than deepdiff
        return []
    differences = _deepdiff(resource, _keyed(old), _keyed(new))
    if not differences and old != new:
        # Same named items in another order: only the positional view shows it.
        differences = _deepdiff(resource, old, new)
    return sorted(differences, key=lambda d: d.path)


def format_path(parts: Iterable[Any]) -> str:
    """`spec.template.spec.containers[name=app].ports[0]`; odd keys are quoted: `labels["helm.sh/chart"]`."""
    text = ""
    for part in parts:
        if isinstance(part, _Named):
            text += f"[name={part.name}]"
        elif isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{json.dumps(str(part))}]"
    return text


def describe(value: Any) -> str:
    """A value as one short line: strings quoted (so "1" and 1 differ), objects as compact JSON."""
    if value is ABSENT or isinstance(value, NotPresent):
        return "(absent)"
    text = json.dumps(plain(value), sort_keys=True, default=str)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def plain(value: Any) -> Any:
    """Undo the named-list view (for display and for findings)."""
    if isinstance(value, _NamedList):
        return [plain(item) for item in value.values()]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _changed_lines(old: str, new: str, limit: int = 12) -> list[str]:
    """The changed lines of a multi-line string (a script, a PromQL expression), numbered."""
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        lines += [f"    - {n + 1}: {line}" for n, line in enumerate(old.splitlines()[old_start:old_end], old_start)]
        lines += [f"    + {n + 1}: {line}" for n, line in enumerate(new.splitlines()[new_start:new_end], new_start)]
    if len(lines) > limit:
        lines = [*lines[:limit], f"    ... and {len(lines) - limit} more changed lines"]
    return lines


def _keyed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _keyed(item) for key, item in value.items()}
    if isinstance(value, list):
        names = [item.get("name") if isinstance(item, dict) else None for item in value]
        if value and all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
            return _NamedList({_Named(name): _keyed(item) for name, item in zip(names, value, strict=True)})
        return [_keyed(item) for item in value]
    return value


def _without_equal_keys(old: Any, new: Any) -> tuple[Any, Any]:
    """Drop map keys whose values are equal on both sides, at every depth.

    deepdiff would walk (and copy its bookkeeping through) every unchanged
    subtree; the differences and their paths are the same without them.
    """
    if isinstance(old, dict) and isinstance(new, dict) and type(old) is type(new):
        kept_old, kept_new = type(old)(), type(new)()
        for key in old.keys() | new.keys():
            if key in old and key in new:
                if old[key] == new[key]:
                    continue
                kept_old[key], kept_new[key] = _without_equal_keys(old[key], new[key])
            elif key in old:
                kept_old[key] = old[key]
            else:
                kept_new[key] = new[key]
        return kept_old, kept_new
    return old, new


def _deepdiff(resource: str, old: Any, new: Any) -> list[Difference]:
    old, new = _without_equal_keys(old, new)
    # threshold_to_diff_deeper=0: always name the changed keys, even when a map
    # shares no key with its old self (deepdiff otherwise reports the whole map).
    tree = DeepDiff(old, new, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    return [
        Difference(resource, format_path(level.path(output_format="list")), _side(level.t1), _side(level.t2))
        for levels in tree.values()
        for level in levels
    ]


def _side(value: Any) -> Any:
    return ABSENT if isinstance(value, NotPresent) else plain(value)
