"""Mapping keys read as kubectl and helm send them (sigs.k8s.io/yaml): non-string keys become strings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rulekit import safe_dump_all

from policies.checks.kubeschema import chart_kube_versions, validate_manifests
from policies.cli import main
from policies.core.errors import InputError
from policies.core.paths import display_path
from policies.inputs.inputlimits import Loader
from policies.inputs.jsonkeys import format_float32, json_key
from policies.inputs.yamlsource import parse_yaml_text
from policies.render.manifests import parse_manifests
from policies.render.render import Render

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels:
    0: int
    true: bool
    1.50: float
    2024-01-01: date
    y: yes-word
    0x1F: hex
    1:30: sexagesimal
spec:
  ports:
    - port: 80
"""


def test_should_turn_every_non_string_key_into_the_string_kubernetes_receives() -> None:
    text = SERVICE.replace("    y: yes-word\n", "")
    (service,) = parse_manifests(text, origin="m.yaml")

    assert service.doc["metadata"]["labels"] == {
        "0": "int", "true": "bool", "1.5": "float", "2024-01-01": "date", "31": "hex", "1:30": "sexagesimal"}
    assert validate_manifests([service], chart_kube_versions(), "production") == []
    assert json.dumps(service.doc, sort_keys=True)  # the crash this fixes


def test_should_read_y_as_the_boolean_go_yaml_makes_of_it() -> None:
    (service,) = parse_manifests(SERVICE.replace("    true: bool\n", ""), origin="m.yaml")

    assert service.doc["metadata"]["labels"]["true"] == "yes-word"


def test_should_locate_findings_under_converted_keys_at_their_own_line() -> None:
    text = SERVICE.replace("    y: yes-word\n", "").replace("true: bool", "true: 7").replace("0: int", "0: false")
    (service,) = parse_manifests(text, origin="m.yaml")

    findings = validate_manifests([service], chart_kube_versions(), "production")

    assert sorted((f.field, f.line, f.actual) for f in findings) == [
        ("metadata.labels.0", 6, "false"), ("metadata.labels.true", 7, "7")]


@pytest.mark.parametrize(("key", "line"), [("null", 7), ("~", 7), ("9223372036854775808", 7), ("[a, b]", 7)])
def test_should_refuse_a_key_the_converter_refuses_with_file_and_line(key: str, line: int) -> None:
    text = SERVICE.replace("true: bool", f"{key}: refused" if not key.startswith("[") else "? [a, b]\n    : refused")

    with pytest.raises(InputError) as caught:
        parse_manifests(text, origin="m.yaml")

    assert (caught.value.file, caught.value.line) == ("m.yaml", line)
    assert "unsupported mapping key" in str(caught.value)


def test_should_refuse_two_keys_that_become_the_same_string() -> None:
    with pytest.raises(InputError) as caught:
        parse_manifests(SERVICE.replace("true: bool", '"0": text'), origin="m.yaml")

    assert caught.value.line == 7
    assert "both become the JSON key '0'" in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("0", "0"), ("-5", "-5"), ("+5", "5"), ("017", "15"), ("0o17", "15"), ("0b101", "5"), ("1_000", "1000"),
    ("08", "8"), ("1.50", "1.5"), ("1e6", "1e+06"), ("100000.0", "100000"), ("0.00001", "1e-05"),
    ("3.14159265", "3.1415927"), (".5", "0.5"), ("99999999999999999999", "1e+20"), ("1e400", "1e400"),
    (".inf", ".inf"), ("-.Inf", "-.inf"), (".NaN", ".nan"), ("true", "true"), ("Off", "false"), ("n", "false"),
    ("yes", "true"), ("2024-01-01", "2024-01-01"), ("1:30", "1:30"), ("'0'", "0"), ("!!str 1.50", "1.50"),
    ("abc", "abc"),
])
def test_should_spell_keys_as_sigs_k8s_io_yaml_does(text: str, expected: str) -> None:
    key_node, _ = yaml.compose(f"{text}: v", Loader=Loader).value[0]

    assert json_key(key_node) == expected


def test_should_format_floats_at_float32_precision_like_go() -> None:
    assert [format_float32(v) for v in (0.1, -0.0, 1e39, 123456789.0, 0.0001)] == [
        "0.1", "-0", ".inf", "1.2345679e+08", "0.0001"]


def test_should_read_values_keys_as_helm_does(tmp_path: Path) -> None:
    sourced = parse_yaml_text("podLabels:\n  0: zero\n  true: x\n", tmp_path / "v.yaml")

    assert sourced.data == {"podLabels": {"0": "zero", "true": "x"}}
    assert sourced.line_of(("podLabels", "true")) == 3


def _check_with_pod_label(render: Render, key: object, tmp_path: Path, capsys: Any) -> tuple[int, Path, str, str]:
    """`check --manifests` on the production render, its Deployment's pod labels given `key` as PyYAML writes it."""
    docs = render.manifests.docs()
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["metadata"]["labels"][key] = "label"
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(safe_dump_all(docs, width=1000), encoding="utf-8")
    code = main(["check", "--format", "json", "--timing-runs", "0", "--env", "production",
                 "--manifests", str(manifests), "--mode", "enforce"])
    captured = capsys.readouterr()
    return code, manifests, captured.out, captured.err


@pytest.mark.parametrize("key", [0, True, 1.5], ids=["int", "bool", "float"])
def test_should_judge_manifests_with_a_non_string_pod_label_key(key: object, tmp_path: Path, capsys: Any,
                                                                render_env: Callable[[str], Render]) -> None:
    code, _, out, _ = _check_with_pod_label(render_env("production"), key, tmp_path, capsys)

    assert (code, json.loads(out)["findings"]) == (0, [])


def test_should_exit_2_naming_file_and_line_for_a_null_pod_label_key(tmp_path: Path, capsys: Any,
                                                                     render_env: Callable[[str], Render]) -> None:
    code, manifests, _, err = _check_with_pod_label(render_env("production"), None, tmp_path, capsys)

    line = manifests.read_text(encoding="utf-8").splitlines().index("        null: label") + 1
    assert code == 2
    assert f"{display_path(manifests)}:{line}" in err
    assert "unsupported mapping key: a null key" in err
