"""Reading a field of a parsed document by its path, instead of a chain of `.get(...) or {}`.

    dig(workload.doc, "spec.strategy.rollingUpdate.maxSurge", "25%")
    mapping_at(pod, "securityContext")            # a mapping, {} when unset

A part that is missing, null or empty (`{}`, `[]`, `""`, `0`, `false`) reads as
missing, as `(x.get(key) or {})` read it: a falsy value where a mapping belongs
holds nothing. A part that is some other non-mapping (a list, a string, a number)
raises TypeError, as `.get` on it raised AttributeError: a rule cannot read a
document the Kubernetes schema rejects, and the engine reports that as bad input
at the field's line (policies/engine.py, UNREADABLE). The last part is returned
as it is, falsy or not: `0` stays `0`; only a missing or null one gives `default`.

A path is a dotted string, or a tuple of keys when a key holds a dot
(`("metadata", "annotations", "helm.sh/hook")`). Lists are not walked: the
callers that need an item enumerate the list themselves, since the index is
part of the field path they report.
"""

from __future__ import annotations

import json
from typing import Any

Path = str | tuple[str, ...]


def _parts(path: Path) -> tuple[str, ...]:
    return tuple(path.split(".")) if isinstance(path, str) else path


def dig(doc: Any, path: Path, default: Any = None) -> Any:
    """The value at `path` in `doc`; `default` when it, or a part on the way, is missing, null or empty."""
    node = doc
    walked: list[str] = []
    for key in _parts(path):
        if not node:
            return default
        if not isinstance(node, dict):
            where = ".".join(walked) or "the document"
            raise TypeError(f"cannot read {key!r}: {where} is not a mapping (found {type(node).__name__})")
        node = node.get(key)
        walked.append(key)
    return default if node is None else node


def mapping_at(doc: Any, path: Path) -> Any:
    """The mapping at `path`: {} when it is missing, null or empty (a truthy non-mapping is returned as it is)."""
    return dig(doc, path) or {}


def key_step(key: str) -> str:
    """One key of a field path as findings write it: `.cpu`, or `["requests.cpu"]` for a key with a dot (or a
    bracket or quote) in it, which a dotted path would read as several keys and could not locate."""
    return f"[{json.dumps(key)}]" if any(mark in key for mark in '.[]"') else f".{key}"
