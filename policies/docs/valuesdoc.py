"""The chart README's values table, generated from the `# --` comments in values.yaml.

Every value is documented where it is declared (argo-helm's habit); the table
is rebuilt from those comments, and a test fails when the committed README
differs, so the docs cannot drift from the defaults.

Written by `python -m policies docs` (`make docs`; --check: exit 1 when stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policies import CHART_DIR, REPO_ROOT
from policies.core.atomic import sync_generated
from policies.inputs.yamlsource import KeyPath, SourcedYaml, dotted, load_yaml_file

README = CHART_DIR / "README.md"
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
DOC_MARK = "# --"


def doc_comment(lines: list[str], key_line: int) -> str | None:
    """The `# --` comment block right above a key (1-based line), joined into one sentence."""
    block: list[str] = []
    index = key_line - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        text = lines[index].strip()
        block.insert(0, text)
        if text.startswith(DOC_MARK):
            return " ".join([block[0][len(DOC_MARK):].strip(), *(b.lstrip("#").strip() for b in block[1:])])
        index -= 1
    return None


def _value_at(data: Any, key_path: KeyPath) -> Any:
    for part in key_path:
        data = data[part]
    return data


def _type(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}.get(
        type(value), "null")


def documented_keys(values: SourcedYaml) -> list[tuple[KeyPath, str]]:
    lines = values.path.read_text(encoding="utf-8").splitlines()
    found = []
    for key_path, line in sorted(values.lines.items(), key=lambda item: item[1]):
        if any(isinstance(part, int) for part in key_path):
            continue
        description = doc_comment(lines, line)
        if description is not None:
            found.append((key_path, description))
    return found


def undocumented_leaves(values: SourcedYaml) -> list[str]:
    """Keys neither documented themselves nor inside a documented object."""
    documented = {path for path, _ in documented_keys(values)}
    missing = []
    for key_path in values.lines:
        if any(isinstance(part, int) for part in key_path):
            continue
        value = _value_at(values.data, key_path)
        is_leaf = not isinstance(value, dict) or not value
        covered = any(key_path[:end] in documented for end in range(1, len(key_path) + 1))
        if is_leaf and not covered:
            missing.append(dotted(key_path))
    return missing


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(values: SourcedYaml) -> str:
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for key_path, description in documented_keys(values):
        value = _value_at(values.data, key_path)
        default = _cell(json.dumps(value, separators=(",", ":")))
        rows.append(f"| `{dotted(key_path)}` | {_type(value)} | `{default}` | {_cell(description)} |")
    return "\n".join(rows)


def render_readme(readme_text: str, values: SourcedYaml) -> str:
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"{README} has no {START} ... {END} markers")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(values)}\n{END}{tail}"


def sync(check: bool = False, chart: Path = CHART_DIR) -> int:
    """Rewrite the generated file (check: only report whether the committed one is stale; 1 when it is)."""
    readme = chart / "README.md"
    values = load_yaml_file(chart / "values.yaml")
    fresh = render_readme(readme.read_text(encoding="utf-8"), values)
    return sync_generated(readme, fresh, check, str(readme.relative_to(REPO_ROOT)))
