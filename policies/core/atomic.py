"""Write files whole or not at all: a report is never left half-written."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask can only swap it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    """An existing file keeps its mode; a new one gets what open() would give (0666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600, which would hide published reports from a web server or another
    # CI user; the mode is set before the rename so the file never appears with the wrong one.
    mode = _final_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            os.fchmod(out.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def sync_generated(path: Path, fresh: str, check: bool, label: str) -> int:
    """Write a generated document, or with `check` report (exit 1) when the committed one differs."""
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != fresh:
            print(f"{label} is stale; run `make docs`", file=sys.stderr)
            return 1
        return 0
    write_text_atomic(path, fresh)
    print(f"wrote {label}")
    return 0
