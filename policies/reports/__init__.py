"""Reporters: turn an Outcome into text. A reporter never decides pass or fail."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line reads FORMATS before helm starts: nothing else is imported then
    from policies.core.outcome import Outcome

# Format -> the reporter module that writes it, imported only when that format is asked for.
FORMATS = {"table": "table", "json": "jsonreport", "markdown": "markdown", "junit": "junit", "github": "github",
           "html": "html"}
# What `--reports-dir` writes, by file name.
REPORT_FILES = {"check.json": "json", "check.md": "markdown", "junit.xml": "junit", "check.html": "html"}


def render_report(outcome: Outcome, fmt: str) -> str:
    return importlib.import_module(f"policies.reports.{FORMATS[fmt]}").render(outcome)
