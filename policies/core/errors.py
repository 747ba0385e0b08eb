"""Input errors: anything the user must fix before a check can run (exit code 2)."""

from __future__ import annotations

from pathlib import Path

from policies.core.paths import display_path

# The exit code of a run stopped by bad input (0 and 1 are a finished check's: policies/core/outcome.py).
EXIT_INPUT_ERROR = 2


class InputError(Exception):
    """Bad input, reported as one line naming the file, line, key and expectation."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = display_path(file) if file is not None else None
        self.line = line
        self.column = column
        self.key = key

    def location(self) -> str:
        parts = [self.file or ""]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(p for p in parts if p)

    def __str__(self) -> str:
        where = self.location()
        key = f"key '{self.key}': " if self.key else ""
        return f"{where}: {key}{self.message}" if where else f"{key}{self.message}"
