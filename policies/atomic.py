"""Write files whole or not at all: a report is never left half-written."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
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
