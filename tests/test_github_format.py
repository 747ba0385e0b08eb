"""`--format github`: every finding and every input error is an annotation on the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.cli import main
from policies.core.paths import display_path


def annotations(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("::error", "::warning"))]


def test_should_annotate_bad_input_with_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("probes:\n  readiness:\n    periodSeconds: [5\n", encoding="utf-8")

    code = main(["check", "--env", "staging", "--values", str(bad), "--format", "github", "--timing-runs", "0"])

    captured = capsys.readouterr()
    assert code == 2
    assert annotations(captured.out) == [
        f"::error file={display_path(bad)},line=4,col=1,title=bad input (exit 2)::"
        "malformed YAML: did not find expected ',' or ']'"]
    assert captured.err.startswith(f"error: {display_path(bad)}:4:1: malformed YAML")


def test_should_annotate_a_bad_key_without_a_line_by_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.yaml"

    code = main(["check", "--env", "staging", "--values", str(missing), "--format", "github"])

    assert code == 2
    assert annotations(capsys.readouterr().out) == [
        f"::error file={display_path(missing)},title=bad input (exit 2)::--values file not found"]


def test_should_annotate_a_warning_as_a_warning_and_a_safety_failure_as_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("# slower liveness\nprobes:\n  liveness:\n    periodSeconds: 20\n", encoding="utf-8")

    code = main(["check", "--env", "staging", "--values", str(overlay), "--format", "github", "--timing-runs", "0",
                 "--mode", "warn"])

    found = annotations(capsys.readouterr().out)
    assert code == 1  # drift is a safety rule: it fails in every phase
    assert [line.split("::")[1] for line in found] == [
        f"error file={display_path(overlay)},line=4,title=drift.unexpected (staging)",
        f"warning file={display_path(overlay)},line=4,title=probes.period (staging)",
    ]
