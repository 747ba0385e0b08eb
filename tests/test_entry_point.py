"""`python -m policies` ends a finished run without the interpreter's teardown (policies/__main__.py): what it
printed must still arrive whole, a stream it cannot write is exit 120 as with Python's own exit, and a profiler
still gets its data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from policies import REPO_ROOT

CHECK = [sys.executable, "-m", "policies", "check", "--env", "development", "--timing-runs", "0"]


def buffered_env() -> dict[str, str]:
    """Without PYTHONUNBUFFERED (set on some machines), so stdout is block-buffered and only a flush sends it."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}


def test_should_deliver_the_whole_report_through_a_pipe():
    # The table is under a pipe's 8 KiB buffer: written in one piece, it arrives only if it is flushed.
    result = subprocess.run([*CHECK, "--format", "table"], cwd=REPO_ROOT, env=buffered_env(), capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("PASS: 0 failure(s), 0 warning(s), 0 waived across development")


def test_should_exit_120_with_one_line_when_stdout_cannot_be_written():
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run([*CHECK, "--format", "table"], cwd=REPO_ROOT, env=buffered_env(), stdout=full,
                                stderr=subprocess.PIPE, text=True, check=False)
    assert result.returncode == 120
    assert result.stderr.splitlines()[-1] == "error: cannot write to <stdout>: [Errno 28] No space left on device"
    assert "Traceback" not in result.stderr


def test_should_pass_with_stdout_closed_when_the_report_goes_to_a_file(tmp_path: Path):
    report = tmp_path / "check.json"
    result = subprocess.run([*CHECK, "--format", "json", "--output", str(report)], cwd=REPO_ROOT, env=buffered_env(),
                            stderr=subprocess.PIPE, text=True, check=False, preexec_fn=lambda: os.close(1))
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["status"] == "pass"


def test_should_leave_a_profiler_its_data(tmp_path: Path):
    profile = tmp_path / "check.prof"
    result = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "policies", "check", "--env",
                             "nowhere"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert "error: --env nowhere: unknown environment" in result.stderr  # (cProfile itself exits 0 after it)
    assert profile.stat().st_size > 0
