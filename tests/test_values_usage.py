"""Every value in values.yaml is used by a template, and every value a template reads is declared.

cert-manager's check: a key nobody reads is a setting that silently does nothing; a key a
template reads but values.yaml does not declare is undocumented and unvalidated. The few
deliberate exceptions live in tests/values-usage-exceptions.yaml, each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

EXCEPTIONS_FILE = Path(__file__).with_name("values-usage-exceptions.yaml")
# `.Values.a.b` or `$.Values.a.b`
_REFERENCE = re.compile(r"(?<![\w$])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
# `{{- $r := .Values.a.b }}` makes `$r.c` mean `.Values.a.b.c`
_ALIAS = re.compile(r"\$([A-Za-z_]\w*)\s*:?=\s*\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_INDEX = re.compile(r"\bindex\s+\$?\.Values\b")

Key = tuple[str, ...]


def _template_files(chart: Path) -> list[Path]:
    templates = chart / "templates"
    return sorted(p for p in templates.rglob("*") if p.is_file() and p.suffix in (".yaml", ".tpl", ".txt"))


def template_references(chart: Path) -> dict[Key, str]:
    """Every values path a template reads, with the first `file:line` that reads it."""
    found: dict[Key, str] = {}
    for path in _template_files(chart):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(chart))
        if _INDEX.search(text):
            raise AssertionError(f"{where}: `index .Values ...` cannot be checked; use `.Values.a.b`")
        aliases = {m[1]: tuple(m[2].split(".")[1:]) for m in _ALIAS.finditer(text)}
        for number, line in enumerate(text.splitlines(), start=1):
            # Binding a map to a variable reads nothing yet; the variable's uses do.
            line = _ALIAS.sub("", line)
            for match in _REFERENCE.finditer(line):
                found.setdefault(tuple(match[1].split(".")[1:]), f"{where}:{number}")
            for name, target in aliases.items():
                for match in re.finditer(rf"\${name}((?:\.[A-Za-z_]\w*)+)", line):
                    found.setdefault((*target, *match[1].split(".")[1:]), f"{where}:{number}")
    return found


def _declared(data: Any, prefix: Key = ()) -> Iterator[tuple[Key, Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield (*prefix, str(key)), value
            yield from _declared(value, (*prefix, str(key)))


def declared_values(chart: Path) -> dict[Key, Any]:
    """Every key path in values.yaml, maps and leaves alike."""
    return dict(_declared(yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))))


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, dict) or not value


def unused_values(chart: Path) -> list[str]:
    """Leaves of values.yaml that no template reads. Reading a parent (`toYaml .Values.resources`)
    or a key inside a declared empty map (`.Values.podLabels.team`) counts as a read."""
    references = template_references(chart)

    def read(key: Key) -> bool:
        return any(key[: len(ref)] == ref or ref[: len(key)] == key for ref in references)

    return [".".join(key) for key, value in declared_values(chart).items() if _is_leaf(value) and not read(key)]


def undeclared_references(chart: Path) -> list[str]:
    """Template reads of values that values.yaml does not declare (keys inside a declared empty map are fine)."""
    declared = declared_values(chart)
    open_maps = [key for key, value in declared.items() if value == {}]
    return [
        f"{'.'.join(ref)} ({where})" for ref, where in template_references(chart).items()
        if ref not in declared and not any(ref[: len(m)] == m for m in open_maps)
    ]


def _exceptions() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(EXCEPTIONS_FILE.read_text(encoding="utf-8")) or {}
    return {section: {entry["key"]: entry["reason"] for entry in data.get(section) or []}
            for section in ("unused", "undeclared")}


def test_should_use_every_declared_value_in_some_template(chart_dir: Path) -> None:
    allowed = _exceptions()["unused"]
    assert [key for key in unused_values(chart_dir) if key not in allowed] == []


def test_should_declare_every_value_a_template_reads(chart_dir: Path) -> None:
    allowed = _exceptions()["undeclared"]
    assert [ref for ref in undeclared_references(chart_dir) if ref.split(" ")[0] not in allowed] == []


def test_should_keep_the_exceptions_short_explained_and_still_needed(chart_dir: Path) -> None:
    exceptions = _exceptions()
    for section, entries in exceptions.items():
        assert all(reason and len(reason.split()) >= 4 for reason in entries.values()), section
    assert set(exceptions["unused"]) <= set(unused_values(chart_dir))
    assert set(exceptions["undeclared"]) <= {ref.split(" ")[0] for ref in undeclared_references(chart_dir)}


@pytest.fixture
def toy_chart(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "values.yaml").write_text(
        "image:\n  repository: x\n  tag: ''\nresources:\n  limits:\n    cpu: 1\npodLabels: {}\nalerts:\n"
        "  cpu: 70\n  memory: 80\n", encoding="utf-8")
    (tmp_path / "templates" / "pod.yaml").write_text(
        "image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n"
        "resources: {{- toYaml .Values.resources | nindent 2 }}\n"
        "labels: {{ .Values.podLabels.team }}\n"
        "{{- $a := .Values.alerts }}\ncpu: {{ $a.cpu }}\n", encoding="utf-8")
    return tmp_path


def test_should_find_a_value_no_template_reads(toy_chart: Path) -> None:
    assert unused_values(toy_chart) == ["alerts.memory"]


def test_should_find_a_read_of_an_undeclared_value(toy_chart: Path) -> None:
    pod = toy_chart / "templates" / "pod.yaml"
    pod.write_text(pod.read_text(encoding="utf-8") + "policy: {{ .Values.image.pullPolcy }}\n", encoding="utf-8")
    assert undeclared_references(toy_chart) == ["image.pullPolcy (templates/pod.yaml:6)"]


def test_should_follow_template_variables_bound_to_values(toy_chart: Path) -> None:
    assert template_references(toy_chart)[("alerts", "cpu")] == "templates/pod.yaml:5"
