"""Waivers: time-boxed, explained exceptions kept outside the chart.

A waiver names a rule, optionally an environment and a resource, a reason and
an expiry date. An expired waiver, or one that waived nothing in the
environments checked, is itself a failure: exceptions must not outlive their
cause.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from policies import PACKAGE_DIR, WAIVERS_FILE
from policies.core.errors import InputError
from policies.core.findings import Finding, failure
from policies.core.paths import display_path
from policies.core.ruledecl import Rule, declare
from policies.inputs.validation import validate_or_raise
from policies.inputs.yamlsource import load_yaml_file

WAIVERS_SCHEMA = PACKAGE_DIR / "waivers.schema.json"
# The control every rule below implements.
WAIVERS_FILE_CONTROL = "project: policies/waivers.yaml"
RULES = declare(
    Rule("waiver.expired", "a waiver past its expiry date", control=WAIVERS_FILE_CONTROL),
    Rule("waiver.unused", "a waiver that matched no finding in the environments it covers",
         control=WAIVERS_FILE_CONTROL),
    Rule("waiver.unknown", "a waiver names an environment, rule id or resource that does not exist (a typo waives "
                           "nothing, silently)", control=WAIVERS_FILE_CONTROL),
)


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    expires: dt.date
    environment: str | None
    resource: str | None
    file: str
    line: int | None

    @property
    def label(self) -> str:
        scope = "/".join(p for p in (self.environment, self.resource) if p)
        return f"{self.rule}@{scope or '*'} ({self.file}:{self.line})"

    def matches(self, finding: Finding) -> bool:
        return (finding.rule == self.rule
                and self.environment in (None, finding.environment)
                and self.resource in (None, finding.resource))


def load_waivers(path: str | Path = WAIVERS_FILE) -> list[Waiver]:
    source = load_yaml_file(path)
    for entry in source.data.get("waivers") or []:
        # YAML reads an unquoted 2026-12-31 as a date; the schema speaks of strings.
        if isinstance(entry, dict) and isinstance(entry.get("expires"), dt.date):
            entry["expires"] = entry["expires"].isoformat()
    validate_or_raise(WAIVERS_SCHEMA, source)
    waivers = []
    for index, entry in enumerate(source.data.get("waivers") or []):
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise InputError(f"expires {expires!r} is not a date (YYYY-MM-DD)", file=source.path,
                                 line=source.line_of(("waivers", index, "expires")),
                                 key=f"waivers[{index}].expires") from None
        waivers.append(Waiver(entry["rule"], entry["reason"], expires, entry.get("environment"),
                              entry.get("resource"), display_path(source.path), source.line_of(("waivers", index))))
    return waivers


@dataclass(frozen=True)
class KnownNames:
    """What a waiver may name: the budget's environments, the rule catalogue, and each checked environment's
    resources (rendered objects and whatever else findings name)."""

    environments: frozenset[str]
    rules: frozenset[str]
    resources: dict[str, frozenset[str]]  # checked environment -> resource refs


def unknown_names(waiver: Waiver, known: KnownNames) -> list[str]:
    """What a waiver names that does not exist; a resource only where its environments were checked."""
    problems = []
    if waiver.environment is not None and waiver.environment not in known.environments:
        problems.append(f"environment {waiver.environment!r} (the budget defines: "
                        f"{', '.join(sorted(known.environments))})")
    if waiver.rule not in known.rules:
        problems.append(f"rule {waiver.rule!r}")
    if waiver.resource is not None and not problems:
        scopes = [known.resources[waiver.environment]] if waiver.environment in known.resources else (
            list(known.resources.values()) if waiver.environment is None else [])
        if scopes and not any(waiver.resource in scope for scope in scopes):
            checked = ", ".join(sorted(known.resources)) if waiver.environment is None else waiver.environment
            problems.append(f"resource {waiver.resource!r} (not rendered in {checked})")
    return problems


def apply_waivers(findings: list[Finding], waivers: list[Waiver], environments: list[str],
                  today: dt.date, known: KnownNames | None = None) -> list[Finding]:
    """Mark waived findings, and add a failure for each expired, unknown or unused waiver."""
    used: set[Waiver] = set()
    result: list[Finding] = []
    for finding in findings:
        waiver = next((w for w in waivers if w.expires >= today and w.matches(finding)), None)
        if waiver:
            used.add(waiver)
            finding = dataclasses.replace(finding, waived_by=waiver.label, waiver_reason=waiver.reason,
                                          waiver_expires=waiver.expires.isoformat())
        result.append(finding)
    for waiver in waivers:
        common = dict(file=waiver.file, line=waiver.line, environment=waiver.environment)
        unknown = unknown_names(waiver, known) if known else []
        if unknown:
            result.append(failure("waiver.unknown", f"waiver names what does not exist: {'; '.join(unknown)}",
                                  expected="a known environment, rule id and resource",
                                  actual=", ".join(p.split(" (")[0] for p in unknown), **common))
        elif waiver.expires < today:
            result.append(failure("waiver.expired", f"waiver for {waiver.rule} expired on {waiver.expires}",
                                  expected=f"expires >= {today}", actual=str(waiver.expires), **common))
        elif waiver not in used and waiver.environment in (None, *environments):
            result.append(failure("waiver.unused", f"waiver for {waiver.rule} matched nothing; remove it",
                                  expected="a matching finding", actual="none", **common))
    return result
