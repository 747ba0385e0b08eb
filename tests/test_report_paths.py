"""Every report names a file the same way: repo-relative inside the repository, absolute outside it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from policies.core import paths
from policies.core.errors import InputError
from policies.core.findings import failure
from policies.core.paths import display_path
from policies.judging.waivers import apply_waivers, load_waivers

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in repository root, so a file can be inside it without writing into the real one."""
    root = tmp_path / "repo"
    (root / "policies").mkdir(parents=True)
    monkeypatch.setattr(paths, "REPO_ROOT", root.resolve())
    return root


def test_should_name_a_file_inside_the_repository_relative_to_it(repo: Path) -> None:
    assert display_path(repo / "charts" / "x" / "values.yaml") == "charts/x/values.yaml"


def test_should_name_a_file_outside_the_repository_by_its_absolute_path(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "overlay.yaml"
    assert display_path(outside) == str(outside.resolve())


def test_should_name_a_relative_path_outside_the_repository_absolutely(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path("overlay.yaml") == str((tmp_path / "overlay.yaml").resolve())


def test_should_name_input_error_files_the_same_way(repo: Path) -> None:
    assert InputError("bad", file=repo / "policies" / "budget.yaml").file == "policies/budget.yaml"


def test_should_name_waiver_files_relative_to_the_repository(repo: Path) -> None:
    waivers_file = repo / "policies" / "waivers.yaml"
    waivers_file.write_text(yaml.safe_dump({"waivers": [
        {"rule": "resources.within-budget", "reason": "load test week, ticket OPS-1", "expires": "2026-12-31"},
        {"rule": "probes.period", "reason": "an old exception, ticket OPS-2", "expires": "2026-11-01"},
    ]}, sort_keys=False), encoding="utf-8")
    finding = failure("resources.within-budget", "over", environment="production", resource="Deployment/x")

    result = apply_waivers([finding], load_waivers(waivers_file), ["production"], TODAY)

    assert [(f.rule, f.file, f.line, f.waived_by) for f in result] == [
        ("resources.within-budget", None, None, "resources.within-budget@* (policies/waivers.yaml:2)"),
        ("waiver.expired", "policies/waivers.yaml", 5, None),
    ]
