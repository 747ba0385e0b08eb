"""Reporters: turn an Outcome into text. A reporter never decides pass or fail."""

from __future__ import annotations

from collections.abc import Callable

from policies.outcome import Outcome
from policies.reports import github, html, jsonreport, junit, markdown, table

FORMATS: dict[str, Callable[[Outcome], str]] = {
    "table": table.render,
    "json": jsonreport.render,
    "markdown": markdown.render,
    "junit": junit.render,
    "github": github.render,
    "html": html.render,
}
# What `--reports-dir` writes, by file name.
REPORT_FILES = {"check.json": "json", "check.md": "markdown", "junit.xml": "junit", "check.html": "html"}


def render_report(outcome: Outcome, fmt: str) -> str:
    return FORMATS[fmt](outcome)
