"""Chart.yaml is checked the way chart-testing checks it, and the chart's own copy passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.checks.chartmeta import RULE, RangeError, parse_range, validate_chart_yaml
from policies.core.errors import InputError
from policies.core.findings import Finding

CHART_NAME = "prompted-forge-mcp"


def _write_chart(tmp_path: Path, text: str, directory: str = CHART_NAME) -> Path:
    chart_dir = tmp_path / directory
    chart_dir.mkdir()
    path = chart_dir / "Chart.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _with(chart_dir: Path, old: str, new: str) -> str:
    text = (chart_dir / "Chart.yaml").read_text(encoding="utf-8")
    # "version: {version}" stands for the chart's current version, which every chart change raises.
    version = re.search(r"^version: (\S+)$", text, re.MULTILINE)
    old = old.replace("{version}", version[1] if version else "(no version line)")
    assert old in text, f"{old!r} not in Chart.yaml"
    return text.replace(old, new)


def test_should_accept_the_chart_yaml_of_this_chart(chart_dir: Path) -> None:
    assert validate_chart_yaml(chart_dir / "Chart.yaml") == []


@pytest.mark.parametrize(
    ("old", "new", "key", "actual"),
    [
        ("apiVersion: v2", "apiVersion: v1", "apiVersion", "v1"),
        ("version: {version}", "version: 0.1", "version", "0.1"),
        ("version: {version}", "version: 1.0.0-01", "version", "1.0.0-01"),
        ('appVersion: "1.0.0"', "appVersion: 1.10", "appVersion", "float 1.1"),
        ('appVersion: "1.0.0"', "", "appVersion", "(missing)"),
        ('kubeVersion: ">=1.31.0-0 <1.36.0-0"', 'kubeVersion: ">=1.31.0-0 <"', "kubeVersion", ">=1.31.0-0 <"),
        ('kubeVersion: ">=1.31.0-0 <1.36.0-0"', "", "kubeVersion", "(missing)"),
        ("name: prompted-forge-mcp", "name: prompted-forge", "name", "prompted-forge"),
        ("type: application", "type: service", "type", "service"),
        ("type: application", "type: application\nkubeversion: '>=1.31.0'", "kubeversion", "kubeversion"),
        ("  - name: Prompted Forge DevOps Team", "  - email: devops@example.com", "maintainers", "email"),
    ],
    ids=["apiVersion-v1", "version-not-semver", "version-leading-zero", "appVersion-unquoted",
         "appVersion-missing", "kubeVersion-unparseable", "kubeVersion-missing", "name-not-directory",
         "type-unknown", "unknown-field", "maintainer-without-name"],
)
def test_should_reject_a_broken_chart_yaml_naming_key_and_line(
    tmp_path: Path, chart_dir: Path, old: str, new: str, key: str, actual: str
) -> None:
    path = _write_chart(tmp_path, _with(chart_dir, old, new))
    problems = validate_chart_yaml(path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert isinstance(problem, Finding)
    assert (problem.rule, problem.field) == (RULE, key)
    assert actual in problem.actual
    assert problem.file == str(path)
    if actual != "(missing)":
        written = path.read_text(encoding="utf-8").splitlines()
        assert key in written[problem.line - 1]


def test_should_reject_a_chart_in_a_directory_of_another_name(tmp_path: Path, chart_dir: Path) -> None:
    path = _write_chart(tmp_path, (chart_dir / "Chart.yaml").read_text(encoding="utf-8"), directory="forge")
    [problem] = validate_chart_yaml(path)
    assert (problem.field, problem.expected, problem.actual) == ("name", "forge", CHART_NAME)


def test_should_report_malformed_yaml_as_an_input_error_with_line(tmp_path: Path) -> None:
    path = _write_chart(tmp_path, "apiVersion: v2\nname: [prompted-forge-mcp\nversion: 0.1.0\n")
    [problem] = validate_chart_yaml(path)
    assert isinstance(problem, InputError)
    assert problem.file == str(path)
    assert problem.line is not None


def test_should_report_a_missing_chart_yaml_as_an_input_error(tmp_path: Path) -> None:
    [problem] = validate_chart_yaml(tmp_path / "Chart.yaml")
    assert isinstance(problem, InputError)
    assert "not found" in problem.message


@pytest.mark.parametrize(
    "text", [">=1.31.0-0 <1.36.0-0", "~1.32", "^1.31.0", "1.31 - 1.35", ">= 1.31, < 1.36", "1.31.x||>=1.33"]
)
def test_should_parse_the_kube_version_ranges_helm_accepts(text: str) -> None:
    assert parse_range(text)


@pytest.mark.parametrize("text", ["", ">=", "banana", ">=1.31.0 <", "1.31.0.0", ">=1.x.y"])
def test_should_reject_kube_version_ranges_helm_cannot_parse(text: str) -> None:
    with pytest.raises(RangeError):
        parse_range(text)
