"""Bad input never leaves a verdict behind, and no input file can crash or stall the check (exit 2, with the
file and the position)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rulekit import editable_docs, safe_dump_all

from policies import CHART_DIR, REPO_ROOT
from policies.cli import main
from policies.inputs.inputlimits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_INPUT_BYTES
from policies.inputs.yamlsource import parse_yaml_text

EXIT_INPUT_ERROR = 2
ALIAS_BOMB = "".join(
    [f"l0: &l0 [{', '.join(['x'] * 9)}]\n"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)  # 9^9 (387 million) leaves once expanded, from nine lines


@pytest.fixture(scope="module")
def production_manifests(render_env, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("render") / "production.yaml"
    path.write_text(safe_dump_all(editable_docs(render_env("production"))), encoding="utf-8")
    return path


def check(*args: str) -> int:
    return main(["check", "--timing-runs", "0", *args])


def check_manifests(path: Path, *args: str) -> int:
    return check("--env", "production", "--manifests", str(path), *args)


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return next(line for line in err.splitlines() if line.startswith("error: "))


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- every values file is an environment -----------------------------------------------------------------------
@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    chart = tmp_path / CHART_DIR.name
    shutil.copytree(CHART_DIR, chart)
    return chart


def test_should_refuse_a_values_file_the_budget_does_not_know(chart_copy, capsys):
    qa = chart_copy / "values-qa.yaml"
    text = (chart_copy / "values-staging.yaml").read_text(encoding="utf-8").replace("cpu: 500m", "cpu: 4000m")
    qa.write_text(text, encoding="utf-8")
    assert check("--chart", str(chart_copy)) == EXIT_INPUT_ERROR
    assert capsys.readouterr().err.splitlines() == [
        f"error: {qa}: values file for environment 'qa', which budget.yaml does not define, so it would never be "
        "checked; add 'qa' to environments in policies/budget.yaml (or remove the file). The budget defines: "
        "development, staging, production"]


def test_should_refuse_a_values_file_named_yml(chart_copy, capsys):
    (chart_copy / "values-staging.yml").write_text("replicaCount: 3\n", encoding="utf-8")
    assert check("--chart", str(chart_copy), "--env", "staging") == EXIT_INPUT_ERROR
    assert "rename it to values-staging.yaml" in error_line(capsys)


def test_should_accept_a_chart_whose_values_files_are_all_environments(chart_copy, production_manifests):
    assert check("--chart", str(chart_copy), "--env", "development") == 0


# -- bad bytes in any input file -------------------------------------------------------------------------------
def test_should_refuse_control_characters_in_manifests(production_manifests, tmp_path, capsys):
    text = production_manifests.read_text(encoding="utf-8")
    bad = write_bytes(tmp_path / "bad.yaml", text.replace("kind: Deployment", "kind: Deploy\x00ment", 1).encode())
    line_no = text[:text.index("kind: Deployment")].count("\n") + 1
    assert check_manifests(bad) == EXIT_INPUT_ERROR
    assert error_line(capsys) == (f"error: {bad}:{line_no}:13: manifests file holds control character U+0000, "
                                  "which YAML does not allow")


def test_should_refuse_a_byte_order_mark(tmp_path, capsys):
    overlay = write_bytes(tmp_path / "overlay.yaml", b"\xef\xbb\xbfreplicaCount: 2\n")
    assert check("--env", "staging", "--values", str(overlay)) == EXIT_INPUT_ERROR
    assert error_line(capsys) == (f"error: {overlay}:1:1: file starts with a byte-order mark; save it as UTF-8 "
                                  "without a BOM")


def test_should_refuse_invalid_utf8_with_its_position(tmp_path, capsys):
    waivers = write_bytes(tmp_path / "waivers.yaml", b"waivers:\n  - rule: caf\xe9\n")
    assert check("--env", "staging", "--waivers", str(waivers)) == EXIT_INPUT_ERROR
    assert error_line(capsys) == f"error: {waivers}:2:14: file is not valid UTF-8 (byte 0xe9)"


def test_should_refuse_an_alias_bomb_quickly(tmp_path, capsys):
    overlay = write_bytes(tmp_path / "bomb.yaml", ALIAS_BOMB.encode())
    started = time.perf_counter()
    assert check("--env", "staging", "--values", str(overlay)) == EXIT_INPUT_ERROR
    assert time.perf_counter() - started < 30  # generous: the expansion itself would never finish
    assert f"YAML aliases expand this document by more than {MAX_ALIAS_NODES} nodes" in error_line(capsys)


def test_should_accept_aliases_that_expand_modestly(tmp_path):
    text = "base: &base {cpu: 100m}\n" + "".join(f"e{i}: *base\n" for i in range(1000))
    assert parse_yaml_text(text, tmp_path / "anchors.yaml").data["e999"] == {"cpu": "100m"}


def test_should_refuse_a_recursive_alias(tmp_path, capsys):
    overlay = write_bytes(tmp_path / "loop.yaml", b"podLabels: &loop\n  self: *loop\n")
    assert check("--env", "staging", "--values", str(overlay)) == EXIT_INPUT_ERROR
    assert "recursive YAML alias" in error_line(capsys)


def test_should_report_the_first_error_the_constructor_meets_not_a_nested_one(tmp_path, capsys):
    # A sexagesimal float of 180 parts overflows while it is built (OverflowError), nested under podAnnotations;
    # the unknown tag on a top-level key is met first by the constructor, which reads a mapping's scalars first.
    overflowing = "1" + ":1" * 180 + ".0"
    overlay = write_bytes(tmp_path / "order.yaml",
                          f"podAnnotations:\n  b: {overflowing}\nreplicaCount: !foo x\n".encode())
    assert check("--env", "staging", "--values", str(overlay)) == EXIT_INPUT_ERROR
    assert "could not determine a constructor for the tag '!foo'" in error_line(capsys)


OVERFLOWING_FLOAT = "1" + ":1" * 180 + ".0"  # a sexagesimal float past float's range: OverflowError in PyYAML


@pytest.mark.parametrize(("text", "position", "message"), [
    ("podAnnotations:\n  a: b\nreplicaCount: !!int x\n", "3:15",
     "malformed YAML: 'x' cannot be read as int (invalid literal for int() with base 10: 'x')"),
    (f"podAnnotations:\n  b: !!float {OVERFLOWING_FLOAT}\n", "2:6",
     f"malformed YAML: '{OVERFLOWING_FLOAT}' cannot be read as float (int too large to convert to float)"),
    (f"podAnnotations:\n  b: {OVERFLOWING_FLOAT}\n", "2:6",
     f"malformed YAML: '{OVERFLOWING_FLOAT}' cannot be read as float (int too large to convert to float)"),
    ("podAnnotations:\n  a: !!bool maybe\n", "2:6", "malformed YAML: 'maybe' cannot be read as bool"),
    ("podAnnotations:\n  a: !!timestamp nope\n", "2:6", "malformed YAML: 'nope' cannot be read as timestamp"),
    ("podAnnotations:\n  a: !!float ''\n", "2:6", "malformed YAML: '' cannot be read as float"),
    ("replicaCount: !foo x\n", "1:15", "malformed YAML: could not determine a constructor for the tag '!foo'"),
], ids=["int-tag-on-text", "float-tag-past-range", "plain-float-past-range", "bool-tag-on-text",
        "timestamp-tag-on-text", "float-tag-on-empty", "unknown-tag"])
def test_should_name_the_value_its_tag_cannot_hold(tmp_path, capsys, text, position, message):
    overlay = write_bytes(tmp_path / "values.yaml", text.encode())
    assert check("--env", "staging", "--values", str(overlay)) == EXIT_INPUT_ERROR
    assert error_line(capsys) == f"error: {overlay}:{position}: {message}"


def test_should_name_the_manifest_value_its_tag_cannot_hold(tmp_path, capsys):
    manifests = write_bytes(tmp_path / "manifests.yaml",
                            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: v1\n"
                            b"kind: ConfigMap\nmetadata:\n  name: y\n  labels:\n    a: !!int nope\n")
    assert check_manifests(manifests) == EXIT_INPUT_ERROR
    assert error_line(capsys) == (f"error: {manifests}:11:8: malformed YAML in rendered manifests: 'nope' cannot be "
                                  "read as int (invalid literal for int() with base 10: 'nope')")


def test_should_refuse_deep_nesting_without_crashing(tmp_path):
    # libyaml's composer recurses in C: 100000 levels used to kill the interpreter (SIGSEGV), not exit 2.
    deep = write_bytes(tmp_path / "deep.yaml", b"kind: ConfigMap\ndata: " + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    result = subprocess.run([sys.executable, "-m", "policies", "check", "--env", "production", "--manifests",
                             str(deep)], cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == EXIT_INPUT_ERROR, result.stderr
    assert f"{deep}:2:{6 + MAX_DEPTH}: YAML nested more than {MAX_DEPTH} levels deep" in result.stderr


def test_should_accept_nesting_at_the_limit(tmp_path):
    text = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert parse_yaml_text(text, tmp_path / "ok.yaml").data is not None


def test_should_refuse_a_file_over_the_size_limit(tmp_path, capsys):
    measurements = write_bytes(tmp_path / "measurements.yaml", b"#" * (MAX_INPUT_BYTES + 1))
    assert check("--env", "staging", "--measurements", str(measurements)) == EXIT_INPUT_ERROR
    assert error_line(capsys) == f"error: {measurements}: file is larger than the 8 MiB limit for input files"


def test_should_refuse_a_baseline_nested_too_deeply(tmp_path, capsys):
    baseline = write_bytes(tmp_path / "baseline.json", b"[" * 200_000 + b"]" * 200_000)
    assert check("--env", "staging", "--baseline", str(baseline)) == EXIT_INPUT_ERROR
    assert error_line(capsys) == f"error: {baseline}: JSON nested too deeply"


# -- no verdict left behind ---------------------------------------------------------------------------------------
def test_should_replace_an_earlier_verdict_with_an_error_report(production_manifests, tmp_path, capsys):
    reports = tmp_path / "reports"
    assert check_manifests(production_manifests, "--reports-dir", str(reports)) == 0
    assert json.loads((reports / "check.json").read_text())["summary"]["status"] == "pass"
    bad = write_bytes(tmp_path / "bad.yaml", b"kind: ConfigMap\x07\n")
    assert check_manifests(bad, "--reports-dir", str(reports), "--output", str(tmp_path / "out.txt")) == 2
    summary = json.loads((reports / "check.json").read_text())["summary"]
    assert summary["status"] == "error" and summary["exit_code"] == 2 and summary["passed"] is False
    assert summary["message"] == f"{bad}:1:16: manifests file holds control character U+0007, which YAML does not allow"
    markdown = (reports / "check.md").read_text()
    assert "ERROR: the check stopped on bad input (exit 2)" in markdown and "PASS" not in markdown
    case = ET.parse(reports / "junit.xml").getroot().find("testsuite/testcase")
    assert case.find("error").text == summary["message"]
    assert (tmp_path / "out.txt").read_text().startswith("ERROR: the check stopped on bad input")


def test_should_refuse_nesting_one_level_past_the_limit(tmp_path):
    from policies.core.errors import InputError
    text = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_yaml_text(text, tmp_path / "deep.yaml")
