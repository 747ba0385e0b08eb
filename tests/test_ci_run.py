""".ci/run: promtool, then lint, test and check in that order, stopping at the first failure with the
failing command's own exit code.

`make` here is a stub, used only to inject failures: it records each target it is asked for and
fails the one named in $FAIL_TARGET the way make does (its `Error N` line on stderr, exit 2).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from policies import REPO_ROOT

CI_RUN = REPO_ROOT / ".ci" / "run"

STUB_MAKE = """#!/usr/bin/env bash
# Stub make: records the target; fails $FAIL_TARGET as make reports a failed recipe.
target="${@: -1}"
echo "$target" >> "$CALLS"
if [ "$target" = "${FAIL_TARGET:-}" ]; then
  [ -n "${NESTED:-}" ] && echo "make[1]: *** [Makefile:9: inner] Error $RECIPE_CODE" >&2
  echo "make: *** [Makefile:1: $target] Error ${NESTED:-$RECIPE_CODE}" >&2
  exit 2
fi
echo "ran $target"
"""


def run_ci(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text(STUB_MAKE, encoding="utf-8")
    (bin_dir / "make").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), **env}
    result = subprocess.run(["bash", str(CI_RUN)], capture_output=True, text=True, timeout=60, env=environment,
                            stdin=subprocess.DEVNULL)
    return result, calls.read_text(encoding="utf-8").split()


def test_should_run_lint_test_and_check_in_order(tmp_path: Path):
    result, calls = run_ci(tmp_path)
    assert (result.returncode, calls) == (0, ["promtool", "lint", "test", "check"])


@pytest.mark.parametrize(
    ("failing", "code", "ran"),
    [
        ("lint", "1", ["promtool", "lint"]),
        ("test", "1", ["promtool", "lint", "test"]),
        ("check", "1", ["promtool", "lint", "test", "check"]),
        ("check", "2", ["promtool", "lint", "test", "check"]),
    ],
)
def test_should_stop_at_the_first_failure_with_its_exit_code(tmp_path: Path, failing: str, code: str, ran: list[str]):
    result, calls = run_ci(tmp_path, FAIL_TARGET=failing, RECIPE_CODE=code)
    assert (result.returncode, calls) == (int(code), ran)
    assert result.stderr == f".ci/run: make {failing} failed (exit {code}); later steps not run\n"


def test_should_take_the_innermost_recipe_s_code_from_a_nested_make(tmp_path: Path):
    # `make install` runs `$(MAKE) check`: the outer make reports Error 2 for an inner Error 1.
    result, _ = run_ci(tmp_path, FAIL_TARGET="check", RECIPE_CODE="1", NESTED="2")
    assert result.returncode == 1
