"""GitHub Actions workflow commands: annotations on the values file line to fix."""

from __future__ import annotations

from policies.core.errors import InputError
from policies.core.outcome import Outcome
from policies.reports._rows import summary_line


def _escape(text: str, in_property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if in_property else text


def _location(file: str | None, line: int | None, column: int | None) -> list[str]:
    """file=, line= and col= properties, each only where the one before it is known."""
    props = []
    if file:
        props.append(f"file={_escape(file, True)}")
        if line:
            props.append(f"line={line}")
            if column:
                props.append(f"col={column}")
    return props


def input_error(error: InputError) -> str:
    """Bad input as an annotation on the file, line and column to fix (GitHub shows it on the diff)."""
    props = _location(error.file, error.line, error.column)
    props.append("title=bad input (exit 2)")
    key = f"key '{error.key}': " if error.key else ""
    return f"::error {','.join(props)}::{_escape(key + error.message)}\n"


def render(outcome: Outcome) -> str:
    lines = []
    for finding in outcome.findings:
        severity = finding.effective_severity
        if severity == "waived":
            continue
        command = "error" if severity == "failure" else "warning"
        props = _location(finding.file, finding.line, finding.column)
        title = f"{finding.rule} ({finding.environment or 'all'})"
        props.append(f"title={_escape(title, True)}")
        message = (f"{finding.message} — {finding.resource or ''} {finding.field or ''}: expected "
                   f"{finding.expected}, found {finding.actual}")
        lines.append(f"::{command} {','.join(props)}::{_escape(message)}")
    lines.append(f"::notice title=performance budget::{_escape(summary_line(outcome))}")
    return "\n".join(lines) + "\n"
