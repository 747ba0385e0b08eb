"""Many promtool test files in one run: each file's result is read from its own part of the output, and any
doubt about which part belongs to which file (a part missing, extra or unreadable, an exit status that
disagrees with the parts) is an error instead of a result."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from promtoolkit import read_sections, require_promtool, run_rule_test_files, split_sections, write_rule_test

PASSING = "passing/tests.yaml"
FAILING = "failing/tests.yaml"
ALWAYS_FIRING = [{"name": "always", "rules": [{"alert": "AlwaysFiring", "expr": "vector(1)"}]}]


def alert_test(name: str, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": name, "interval": "1m", "input_series": [],
             "alert_rule_test": [{"eval_time": "0m", "alertname": "AlwaysFiring", "exp_alerts": expected}]}]


@pytest.fixture(scope="module")
def two_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test file promtool passes and one it fails, each beside its own rule file."""
    root = tmp_path_factory.mktemp("two-files")
    for name, expected in ((PASSING, [{"exp_labels": {}}]), (FAILING, [])):
        directory = root / Path(name).parent
        directory.mkdir()
        write_rule_test(ALWAYS_FIRING, alert_test(f"{directory.name} case", expected), directory, "1m")
    return root


@pytest.fixture(scope="module")
def output(two_files: Path) -> str:
    """promtool's own output for the two files, both streams in one pipe as run_rule_test_files reads it."""
    done = subprocess.run([require_promtool(), "test", "rules", PASSING, FAILING], cwd=two_files,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert done.returncode == 1, done.stdout
    return done.stdout


def test_should_give_each_file_its_own_part_of_one_run(two_files: Path) -> None:
    runs = run_rule_test_files(require_promtool(), [two_files / PASSING, two_files / FAILING], two_files)
    assert set(runs) == {two_files / PASSING, two_files / FAILING}
    assert (runs[two_files / PASSING].passed, runs[two_files / PASSING].output) == (
        True, f"Unit Testing:  {PASSING}\n  SUCCESS")
    failing = runs[two_files / FAILING]
    assert not failing.passed
    assert failing.output.startswith(f"Unit Testing:  {FAILING}\n  FAILED:\n"), failing.output
    assert "name: failing case," in failing.output and "passing case" not in failing.output, failing.output


def test_should_fail_when_a_file_has_no_part(output: str) -> None:
    with pytest.raises(AssertionError, match=re.escape("missing ['other/tests.yaml'], extra []")):
        read_sections(output, 1, [PASSING, FAILING, "other/tests.yaml"])


def test_should_fail_when_a_part_names_a_file_not_asked_for(output: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(f"missing [], extra ['{FAILING}']")):
        read_sections(output, 1, [PASSING])


def test_should_fail_when_a_file_has_two_parts(output: str) -> None:
    doubled = output + split_sections(output, [PASSING, FAILING])[PASSING]
    with pytest.raises(AssertionError, match=re.escape(f"missing [], extra ['{PASSING}']")):
        read_sections(doubled, 1, [PASSING, FAILING])


def test_should_fail_when_a_file_is_asked_for_twice(output: str) -> None:
    with pytest.raises(AssertionError, match="a test file is named twice"):
        read_sections(output, 1, [PASSING, FAILING, PASSING])


def test_should_fail_on_output_before_the_first_part(output: str) -> None:
    with pytest.raises(AssertionError, match=re.escape("before the first part 'Error: unexpected'")):
        read_sections("Error: unexpected\n" + output, 1, [PASSING, FAILING])


def test_should_fail_on_a_part_that_neither_passes_nor_fails(output: str) -> None:
    with pytest.raises(AssertionError, match=f"output for {re.escape(PASSING)} says neither SUCCESS nor FAILED"):
        read_sections(output.replace("  SUCCESS", "  SKIPPED"), 1, [PASSING, FAILING])


def test_should_fail_when_promtool_exits_0_after_printing_a_failure(output: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(f"promtool exited 0 but its output shows failures in "
                                                       f"['{FAILING}']")):
        read_sections(output, 0, [PASSING, FAILING])


def test_should_fail_when_promtool_exits_nonzero_with_every_file_passing(output: str) -> None:
    passing_only = split_sections(output, [PASSING, FAILING])[PASSING]
    with pytest.raises(AssertionError, match="promtool exited 1 but its output shows every file passing"):
        read_sections(passing_only, 1, [PASSING])
