"""Findings: one structured record per problem, the currency between checks and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    FAILURE = "failure"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """What a rule found. `values_key`, `values_keys` and `source` are hints that the engine turns into
    file/line; `inputs` then names each value a derived figure came from, with its file:line."""

    rule: str
    severity: Severity
    message: str
    environment: str | None = None
    resource: str | None = None
    container: str | None = None
    field: str | None = None
    expected: str | None = None
    actual: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    enforced: bool = True
    waived_by: str | None = None
    # The waiver's own words and date, so a report shows why a finding does not count, and until when.
    waiver_reason: str | None = None
    waiver_expires: str | None = None
    inputs: tuple[str, ...] = ()
    # Every object and field one cause reaches, when a finding stands for several (`Kind/name field`).
    affects: tuple[str, ...] = ()
    values_key: tuple[str | int, ...] | None = dataclass_field(default=None, compare=False, repr=False)
    # Several values that together decide a derived figure (timing formulas).
    values_keys: tuple[tuple[str | int, ...], ...] = dataclass_field(default=(), compare=False, repr=False)
    source: str | None = dataclass_field(default=None, compare=False, repr=False)

    @property
    def fails(self) -> bool:
        """A finding that fails the run: an enforced, unwaived failure."""
        return self.severity is Severity.FAILURE and self.enforced and self.waived_by is None

    @property
    def effective_severity(self) -> str:
        if self.waived_by:
            return "waived"
        if self.severity is Severity.FAILURE and not self.enforced:
            return "warning"
        return self.severity.value

    @property
    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        return self.file or ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("values_key")
        data.pop("values_keys")
        data["inputs"] = list(self.inputs)
        data["affects"] = list(self.affects)
        data.pop("source")
        data["severity"] = self.effective_severity
        data["budget_severity"] = self.severity.value
        return data


def failure(rule: str, message: str, **fields: Any) -> Finding:
    return Finding(rule=rule, severity=Severity.FAILURE, message=message, **fields)


def warning(rule: str, message: str, **fields: Any) -> Finding:
    return Finding(rule=rule, severity=Severity.WARNING, message=message, **fields)
