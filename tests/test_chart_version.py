"""scripts/chart_version.py (`make lint`): a chart that changed since the merge base with the target
branch must raise its Chart.yaml version, as chart-testing's check-version-increment demands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policies import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import chart_version  # noqa: E402

CHART_YAML = "apiVersion: v2\nname: demo\nversion: {version}\n"


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                             "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def write(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture(autouse=True)
def no_ci_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    monkeypatch.delenv("CHART_VERSION_BASE", raising=False)


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A repository whose main holds chart `demo` 0.1.0 and a README."""
    repo = tmp_path / "upstream"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, "charts/demo/Chart.yaml", CHART_YAML.format(version="0.1.0"))
    write(repo, "charts/demo/templates/cm.yaml", "kind: ConfigMap\n")
    write(repo, "README.md", "demo\n")
    commit(repo, "chart 0.1.0")
    return repo


@pytest.fixture
def clone(upstream: Path, tmp_path: Path) -> Path:
    """A clone of upstream on a topic branch: origin/main is the target branch."""
    repo = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(upstream), str(repo))
    git(repo, "checkout", "-q", "-b", "topic")
    return repo


def run(repo: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = chart_version.main(list(argv), repo=repo)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def base_of(repo: Path) -> str:
    return git(repo, "merge-base", "HEAD", "origin/main").strip()[:12]


def test_should_fail_a_chart_change_without_a_version_increase(clone: Path, capsys):
    write(clone, "charts/demo/templates/cm.yaml", "kind: ConfigMap\nmetadata: {name: x}\n")
    commit(clone, "template change")
    assert run(clone, capsys) == (1, "", (
        f"chart-version: error: charts/demo differs from the merge base with origin/main ({base_of(clone)}) "
        "but its Chart.yaml version 0.1.0 is not higher than 0.1.0; raise `version` in charts/demo/Chart.yaml\n"))


def test_should_pass_a_chart_change_with_a_patch_increase(clone: Path, capsys):
    write(clone, "charts/demo/templates/cm.yaml", "kind: ConfigMap\nmetadata: {name: x}\n")
    write(clone, "charts/demo/Chart.yaml", CHART_YAML.format(version="0.1.1"))
    commit(clone, "template change, 0.1.1")
    assert run(clone, capsys) == (0, (
        f"chart-version: ok: charts/demo 0.1.0 -> 0.1.1 since the merge base with origin/main ({base_of(clone)})\n"),
        "")


@pytest.mark.parametrize("version", ["0.0.9", "0.1.0-rc.1", "0.1.0+build.2"])
def test_should_fail_a_version_that_is_not_higher(clone: Path, capsys, version: str):
    # A pre-release sorts before its release; build metadata does not count in semver ordering.
    write(clone, "charts/demo/Chart.yaml", CHART_YAML.format(version=version))
    commit(clone, f"version {version}")
    code, _, err = run(clone, capsys)
    assert code == 1 and f"version {version} is not higher than 0.1.0" in err


def test_should_see_uncommitted_chart_changes(clone: Path, capsys):
    write(clone, "charts/demo/values.yaml", "replicas: 2\n")
    code, _, err = run(clone, capsys)
    assert code == 1 and "charts/demo differs" in err


def test_should_pass_changes_outside_the_charts(clone: Path, capsys):
    write(clone, "README.md", "demo, documented\n")
    commit(clone, "docs")
    assert run(clone, capsys) == (
        0, f"chart-version: ok: no chart differs from the merge base with origin/main ({base_of(clone)})\n", "")


def test_should_pass_a_new_chart(clone: Path, capsys):
    write(clone, "charts/other/Chart.yaml", CHART_YAML.format(version="0.1.0"))
    commit(clone, "new chart")
    code, out, _ = run(clone, capsys)
    assert code == 0 and "chart-version: ok: charts/other is new since" in out


def test_should_compare_with_the_pull_request_s_target_branch(clone: Path, upstream: Path, capsys, monkeypatch):
    git(upstream, "branch", "release")
    git(clone, "fetch", "-q", "origin")
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    write(clone, "charts/demo/values.yaml", "replicas: 2\n")
    code, _, err = run(clone, capsys)
    assert code == 1 and "merge base with origin/release" in err


def test_should_skip_without_a_target_branch(upstream: Path, capsys):
    # A local repository without a remote, as a worktree branch of a local main is.
    assert run(upstream, capsys) == (0, (
        "chart-version: skipped: no target branch origin/main here "
        "(set CHART_VERSION_BASE=<ref> to compare with another)\n"), "")


def test_should_skip_without_a_merge_base(clone: Path, capsys):
    git(clone, "checkout", "-q", "--orphan", "unrelated")
    commit(clone, "unrelated history")
    assert run(clone, capsys) == (0, (
        "chart-version: skipped: HEAD and origin/main have no merge base (shallow clone or unrelated history)\n"), "")


def test_should_take_the_base_from_chart_version_base(upstream: Path, capsys, monkeypatch):
    git(upstream, "checkout", "-q", "-b", "topic")
    write(upstream, "charts/demo/values.yaml", "replicas: 2\n")
    monkeypatch.setenv("CHART_VERSION_BASE", "main")
    code, _, err = run(upstream, capsys)
    assert code == 1 and "merge base with main" in err


def test_should_report_a_version_that_is_not_semver_as_bad_input(clone: Path, capsys):
    write(clone, "charts/demo/Chart.yaml", CHART_YAML.format(version="'1.0'"))
    commit(clone, "bad version")
    assert run(clone, capsys) == (
        2, "", "chart-version: error: charts/demo/Chart.yaml: version '1.0' is not a semantic version\n")
