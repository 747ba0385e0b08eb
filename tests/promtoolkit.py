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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rulekit import safe_dump
from snapshotkit import running_in_ci

from policies.render.manifests import ManifestIndex

# The oldest promtool the rule tests were run with (Debian 12's package); see the README.
MINIMUM_VERSION = (2, 42)
# Far above promtool's own run time (about 0.1 s for one case here, 2-3 s for the fifty alert cases in one
# run on the loaded 2-core machine), only a guard against a hang.
TIMEOUT_SECONDS = 60
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


def write_rule_test(groups: list[dict[str, Any]], test_groups: list[dict[str, Any]], directory: Path,
                    evaluation_interval: str) -> Path:
    """A promtool test file and the rule file it reads, side by side in `directory`; the test file's path."""
    rules = write_rule_file(groups, directory)
    tests = directory / "tests.yaml"
    tests.write_text(safe_dump({"rule_files": [rules.name], "evaluation_interval": evaluation_interval,
                                "tests": test_groups}, sort_keys=False), encoding="utf-8")
    return tests


def run_rule_tests(promtool: str, groups: list[dict[str, Any]], test_groups: list[dict[str, Any]],
               directory: Path, evaluation_interval: str) -> PromtoolRun:
    """`promtool test rules` of the test groups against the rule groups."""
    tests = write_rule_test(groups, test_groups, directory, evaluation_interval)
    return _run(promtool, ["test", "rules", tests.name], directory)


# A long run of many cases collects garbage often under Go's default (100): at 200 the fifty alert cases take
# about 0.2 s less CPU (1.4 s) for about 50 MB more memory (120 MB). The results do not depend on it.
BATCH_GOGC = "200"
# promtool 2.42 prints `Unit Testing:  <file>` (two spaces: Println("Unit Testing: ", file)) on stdout before
# each test file, then `  SUCCESS` on stdout or `  FAILED:` and the errors on stderr.
SECTION_HEADER = re.compile(r"^Unit Testing:  (.+)$", re.MULTILINE)


def run_rule_test_files(promtool: str, test_files: list[Path], directory: Path) -> dict[Path, PromtoolRun]:
    """`promtool test rules` of many test files in one process, each file's part of the output as its own run.

    Starting promtool costs about as much CPU as evaluating one alert case, so the alert cases share one
    process. Each file keeps its own rule file, so the cases stay as independent as in separate runs. The
    file names must be unique under `directory`, the folder promtool runs in.
    """
    names = [str(path.relative_to(directory)) for path in test_files]
    # One pipe for both streams: Go writes them unbuffered, so each file's errors stay after its header.
    done = subprocess.run([promtool, "test", "rules", *names], cwd=directory, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False, timeout=TIMEOUT_SECONDS,
                          env={**os.environ, "GOGC": BATCH_GOGC})
    return {directory / name: run for name, run in read_sections(done.stdout, done.returncode, names).items()}


def read_sections(output: str, returncode: int, names: list[str]) -> dict[str, PromtoolRun]:
    """Each test file's result, by the name promtool was given; an error when the output and the exit
    status disagree (a failure promtool did not print, or a failure printed under an exit status of 0)."""
    sections = split_sections(output, names)
    failed = sorted(name for name, section in sections.items() if not section_passed(name, section))
    if (returncode != 0) != bool(failed):
        raise AssertionError(f"promtool exited {returncode} but its output shows "
                             f"{f'failures in {failed}' if failed else 'every file passing'}:\n{output}")
    return {name: PromtoolRun(1 if name in failed else 0, section.strip()) for name, section in sections.items()}


def split_sections(output: str, names: list[str]) -> dict[str, str]:
    """The output cut at each `Unit Testing:` header, by file name; exactly the files asked for, else an
    error naming the missing and extra ones (so no file's result is ever read from another's part)."""
    if len(set(names)) != len(names):
        raise AssertionError(f"a test file is named twice, so its parts cannot be told apart: {sorted(names)}")
    headers = list(SECTION_HEADER.finditer(output))
    found = [header.group(1) for header in headers]
    missing, extra = Counter(names) - Counter(found), Counter(found) - Counter(names)
    leading = output[:headers[0].start()].strip() if headers else output.strip()
    if missing or extra or leading:
        raise AssertionError(f"promtool's output does not have one part per test file: missing {sorted(missing)}, "
                             f"extra {sorted(extra)}, before the first part {leading!r}:\n{output}")
    ends = [header.start() for header in headers[1:]] + [len(output)]
    return {header.group(1): output[header.start():end] for header, end in zip(headers, ends, strict=True)}


def section_passed(name: str, section: str) -> bool:
    """Whether a file's part of the output says SUCCESS or FAILED; anything else is an error."""
    status = section.splitlines()[1:2]
    if status == ["  SUCCESS"]:
        return True
    if status == ["  FAILED:"]:
        return False
    raise AssertionError(f"promtool's output for {name} says neither SUCCESS nor FAILED:\n{section}")
