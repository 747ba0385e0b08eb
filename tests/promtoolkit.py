"""promtool, Prometheus' own rule checker and rule unit tester, run on the chart's rendered rules.

`make setup` installs it from the distribution's `prometheus` package (scripts/install_promtool.sh);
$PROMTOOL points at another one. Without it the tests that need it skip with the reason, except where
$CI is set: there a missing promtool is a failure, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rulekit import safe_dump
from snapshotkit import running_in_ci

from policies.render.manifests import ManifestIndex

# The oldest promtool the rule tests were run with (Debian 12's package); see the README.
MINIMUM_VERSION = (2, 42)
# Far above promtool's own run time (about 0.1 s here), only a guard against a hang.
TIMEOUT_SECONDS = 30
VERSION_LINE = re.compile(r"promtool, version (\d+)\.(\d+)\.(\d+)")


def find_promtool() -> str | None:
    """$PROMTOOL when set (it must exist), else promtool on PATH, else None."""
    chosen = os.environ.get("PROMTOOL")
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise AssertionError(f"PROMTOOL={chosen} is not an executable")
        return found
    return shutil.which("promtool")


def promtool_version(promtool: str) -> tuple[int, int, int]:
    output = subprocess.run([promtool, "--version"], capture_output=True, text=True, check=False,
                            timeout=TIMEOUT_SECONDS)
    match = VERSION_LINE.search(output.stdout + output.stderr)
    if match is None:
        raise AssertionError(f"{promtool} --version printed no version: {output.stdout + output.stderr!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def require_promtool() -> str:
    """The promtool to use, or a skip (a failure where $CI is set) saying why there is none."""
    promtool = find_promtool()
    if promtool is None:
        reason = "promtool is not installed; run `make promtool` as root (Debian's prometheus package) or set PROMTOOL"
        if running_in_ci():
            pytest.fail(f"{reason} (CI is set, so the alert rule tests may not skip)")
        pytest.skip(reason)
    version = promtool_version(promtool)
    if version[:2] < MINIMUM_VERSION:
        pytest.fail(f"{promtool} is version {'.'.join(map(str, version))}; the rule tests need "
                    f">= {'.'.join(map(str, MINIMUM_VERSION))}")
    return promtool


def rule_groups(manifests: ManifestIndex) -> list[dict[str, Any]]:
    """The rule groups of every PrometheusRule in a render: what the operator hands Prometheus."""
    return [group for rule in manifests.of_kind("PrometheusRule") for group in rule.doc["spec"]["groups"]]


@dataclass(frozen=True)
class PromtoolRun:
    returncode: int
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def _run(promtool: str, args: list[str], directory: Path) -> PromtoolRun:
    done = subprocess.run([promtool, *args], cwd=directory, capture_output=True, text=True, check=False,
                          timeout=TIMEOUT_SECONDS)
    return PromtoolRun(done.returncode, (done.stdout + done.stderr).strip())


def write_rule_file(groups: list[dict[str, Any]], directory: Path) -> Path:
    path = directory / "rules.yaml"
    path.write_text(safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


def check_rules(promtool: str, groups: list[dict[str, Any]], directory: Path) -> PromtoolRun:
    """`promtool check rules` on the groups, written as a Prometheus rule file."""
    rules = write_rule_file(groups, directory)
    return _run(promtool, ["check", "rules", rules.name], directory)


def run_rule_tests(promtool: str, groups: list[dict[str, Any]], test_groups: list[dict[str, Any]],
               directory: Path, evaluation_interval: str) -> PromtoolRun:
    """`promtool test rules` of the test groups against the rule groups."""
    rules = write_rule_file(groups, directory)
    tests = directory / "tests.yaml"
    tests.write_text(safe_dump({"rule_files": [rules.name], "evaluation_interval": evaluation_interval,
                                     "tests": test_groups}, sort_keys=False), encoding="utf-8")
    return _run(promtool, ["test", "rules", tests.name], directory)
