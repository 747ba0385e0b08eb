"""YAML loading that remembers where each key was written.

Findings point at the values file line to change, and input errors name the
line of a syntax error; both need PyYAML's node marks, which plain safe_load
throws away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policies.core.errors import InputError
from policies.inputs.inputlimits import compose_bounded, construct_bounded, read_bounded_text

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SourcedYaml:
    """A parsed YAML document plus the 1-based line (and column) of every key path in it."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    columns: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """Line of the deepest written prefix of key_path (a default may fill the rest)."""
        for end in range(len(key_path), 0, -1):
            line = self.lines.get(tuple(key_path[:end]))
            if line is not None:
                return line
        return None

    def defines(self, key_path: KeyPath) -> bool:
        return tuple(key_path) in self.lines


def _walk(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int], columns: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*prefix, key_node.value)
            lines[key_path] = key_node.start_mark.line + 1
            columns[key_path] = key_node.start_mark.column + 1
            _walk(value_node, key_path, lines, columns)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key_path = (*prefix, index)
            lines[key_path] = item.start_mark.line + 1
            columns[key_path] = item.start_mark.column + 1
            _walk(item, key_path, lines, columns)


def parse_yaml_text(text: str, path: Path) -> SourcedYaml:
    root = compose_bounded(text, path)
    data = construct_bounded(text, root, path)
    lines: dict[KeyPath, int] = {}
    columns: dict[KeyPath, int] = {}
    if root is not None:
        _walk(root, (), lines, columns)
    return SourcedYaml(path=path, data=data, lines=lines, columns=columns)


def read_input_text(path: Path, what: str = "file") -> str:
    """An input file's text; missing, unreadable or out of bounds (policies/inputs/inputlimits.py): InputError."""
    return read_bounded_text(path, what)


def load_yaml_file(path: str | Path, *, require_mapping: bool = True) -> SourcedYaml:
    """Load one YAML file; a missing, empty or non-mapping file is an InputError."""
    path = Path(path)
    sourced = parse_yaml_text(read_input_text(path), path)
    if require_mapping:
        if sourced.data is None:
            raise InputError("file is empty; expected a YAML mapping of keys", file=path)
        if not isinstance(sourced.data, dict):
            raise InputError(
                f"expected a YAML mapping at the top level, found {type(sourced.data).__name__}",
                file=path,
                line=1,
            )
    return sourced


def dotted(key_path: KeyPath) -> str:
    """`("resources", "limits", "cpu")` -> `resources.limits.cpu`; list items as `[0]`."""
    out = ""
    for part in key_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
