"""Every value is documented where it is declared, and the chart README's table is generated from it."""

from __future__ import annotations

from pathlib import Path

from policies import CHART_DIR
from policies.docs.valuesdoc import doc_comment, render_readme, undocumented_leaves
from policies.inputs.yamlsource import load_yaml_file


def test_should_document_every_value_in_values_yaml():
    assert undocumented_leaves(load_yaml_file(CHART_DIR / "values.yaml")) == []


def test_should_keep_the_chart_readme_table_generated():
    readme = (CHART_DIR / "README.md").read_text(encoding="utf-8")
    assert readme == render_readme(readme, load_yaml_file(CHART_DIR / "values.yaml")), "run `make docs`"


def test_should_flag_an_undocumented_value(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("# -- documented\nreplicaCount: 1\nimage:\n  # plain comment, not a doc\n  tag: x\n")
    assert undocumented_leaves(load_yaml_file(values)) == ["image.tag"]


def test_should_read_a_multi_line_doc_comment():
    lines = ["# -- first line", "# second line", "key: 1"]
    assert doc_comment(lines, 3) == "first line second line"


def test_should_show_defaults_and_types_in_the_table(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("# -- how many | pods\nreplicaCount: 2\n")
    text = render_readme("x\n<!-- values-table:start -->\n<!-- values-table:end -->\n", load_yaml_file(values))
    assert "| `replicaCount` | int | `2` | how many \\| pods |" in text
