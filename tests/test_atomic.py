"""Generated files and reports are written whole, with the mode an ordinary write would give."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.core.atomic import write_text_atomic


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_should_create_a_new_file_readable_by_others_under_umask_022(tmp_path: Path, umask: None) -> None:
    path = write_text_atomic(tmp_path / "reports" / "check.md", "# report\n")
    assert (path.read_text(encoding="utf-8"), mode(path)) == ("# report\n", 0o644)


def test_should_honour_a_stricter_umask(tmp_path: Path, umask: None) -> None:
    os.umask(0o077)
    assert mode(write_text_atomic(tmp_path / "check.json", "{}\n")) == 0o600


def test_should_keep_the_mode_of_an_existing_file(tmp_path: Path, umask: None) -> None:
    path = tmp_path / "README.md"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o664)
    write_text_atomic(path, "new\n")
    assert (path.read_text(encoding="utf-8"), mode(path)) == ("new\n", 0o664)


def test_should_leave_no_temporary_file_behind(tmp_path: Path, umask: None) -> None:
    write_text_atomic(tmp_path / "junit.xml", "<testsuites/>\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml"]
