"""How every report names a file: relative to the repository when inside it, absolute otherwise.

One rule for every finding, waiver and input error, so the same file reads the
same in the table, JSON, Markdown, JUnit and GitHub annotations.
"""

from __future__ import annotations

from pathlib import Path

from policies import REPO_ROOT


def display_path(path: str | Path) -> str:
    """`charts/x/values.yaml` for a file in the repository; the absolute path for anything else."""
    text = str(path)
    if not text or text.startswith("<"):  # `<stdin>`-style names are not paths
        return text
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(REPO_ROOT))
    except ValueError:
        return str(resolved)
