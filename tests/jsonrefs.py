"""Local `$ref`s of the chart's values schema, inlined, for tests that walk the schema as a tree."""

from __future__ import annotations

from typing import Any


def resolve(root: dict[str, Any], ref: str) -> Any:
    """The node a local JSON pointer (`#/$defs/name`) names."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are used in the chart's schema, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every `$ref` replaced by what it points at (a sibling `description` kept) and no `$defs`."""

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                siblings = {key: value for key, value in node.items() if key != "$ref"}
                return {**inline(resolve(schema, node["$ref"])), **siblings}
            return {key: inline(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)
