"""Chart.yaml checks in the manner of chart-testing, plus the semver ranges its kubeVersion uses.

Fields the chart cannot be published without (or that helm would misread) are
failures: apiVersion v2, a semver `version`, a quoted `appVersion`, a
`kubeVersion` range helm can parse, a `name` equal to the chart's directory, and
no unknown top-level keys (a typo such as `kubeversion` is silently ignored by helm).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.core.errors import InputError
from policies.core.findings import Finding, failure
from policies.core.ruledecl import Rule, declare
from policies.inputs.yamlsource import SourcedYaml, load_yaml_file

RULE = "chart.metadata"
RULES = declare(
    Rule(RULE, "Chart.yaml is complete and valid as chart-testing checks it (apiVersion v2, semver, kubeVersion)",
         control="chart-testing (ct lint) Chart.yaml rules")
)
# Semantic Versioning 2.0.0, the grammar helm and chart-testing apply to `version`.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
# Chart.yaml fields helm knows (https://helm.sh/docs/topics/charts/#the-chartyaml-file).
KNOWN_FIELDS = (
    "apiVersion", "name", "version", "kubeVersion", "description", "type", "keywords", "home", "sources",
    "dependencies", "maintainers", "icon", "appVersion", "deprecated", "annotations",
)
# Required by this repository (chart-testing requires the first four; the others make the
# chart's contract explicit: what it ships and which clusters it supports).
REQUIRED_FIELDS = ("apiVersion", "name", "version", "description", "appVersion", "kubeVersion", "type")
CHART_TYPES = ("application", "library")
MAINTAINER_FIELDS = ("name", "email", "url")

# -- semver ranges (the subset of Masterminds/semver constraints charts use) ---------------

_PARTIAL = re.compile(
    r"^v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(>=|<=|!=|=>|=<|>|<|=|~>|~|\^)?\s*(\S+)$")


@dataclass(frozen=True, order=True)
class Version:
    """A comparable semantic version; a pre-release sorts before its release (1.36.0-0 < 1.36.0)."""

    major: int
    minor: int
    patch: int
    release: bool = True
    prerelease: tuple[tuple[int, int | str], ...] = ()

    @classmethod
    def of(cls, major: int, minor: int, patch: int, prerelease: str | None = None) -> Version:
        if not prerelease:
            return cls(major, minor, patch)
        parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in prerelease.split("."))
        return cls(major, minor, patch, False, parts)

    def __str__(self) -> str:
        pre = ".".join(str(p) for _, p in self.prerelease)
        return f"{self.major}.{self.minor}.{self.patch}" + (f"-{pre}" if pre else "")


Comparator = tuple[str, Version]


class RangeError(ValueError):
    """A version range helm could not parse."""


def _bounds(text: str) -> tuple[Version, Version | None, bool]:
    """A partial version as (lowest, next-excluded, exact): `1.31` -> 1.31.0, 1.32.0; `1.31.0` is exact."""
    match = _PARTIAL.match(text)
    if not match:
        raise RangeError(f"{text!r} is not a version")
    major, minor, patch, pre = match[1], match[2], match[3], match[4]
    wild = {None, "x", "X", "*"}
    if minor in wild:
        return Version.of(int(major), 0, 0), Version.of(int(major) + 1, 0, 0), False
    if patch in wild:
        return Version.of(int(major), int(minor), 0), Version.of(int(major), int(minor) + 1, 0), False
    return Version.of(int(major), int(minor), int(patch), pre), None, True


def _expand(op: str, text: str) -> list[Comparator]:
    low, next_excluded, exact = _bounds(text)
    if op in ("", "="):
        return [("=", low)] if exact else [(">=", low), ("<", next_excluded)]  # type: ignore[list-item]
    if op == "!=":
        return [("!=", low)]
    if op in (">=", "=>"):
        return [(">=", low)]
    if op == ">":
        return [(">", low)] if exact else [(">=", next_excluded)]  # type: ignore[list-item]
    if op == "<":
        return [("<", low)]
    if op in ("<=", "=<"):
        return [("<=", low)] if exact else [("<", next_excluded)]  # type: ignore[list-item]
    if op in ("~", "~>"):
        return [(">=", low), ("<", Version.of(low.major, low.minor + 1, 0))]
    # ^: the left-most non-zero part stays fixed.
    if low.major:
        upper = Version.of(low.major + 1, 0, 0)
    elif low.minor:
        upper = Version.of(0, low.minor + 1, 0)
    else:
        upper = Version.of(0, 0, low.patch + 1)
    return [(">=", low), ("<", upper)]


def parse_range(text: str) -> list[list[Comparator]]:
    """`>=1.31.0-0 <1.36.0-0` -> alternatives (`||`) of comparators that must all hold."""
    if not isinstance(text, str) or not text.strip():
        raise RangeError("the range is empty")
    alternatives: list[list[Comparator]] = []
    for alternative in text.split("||"):
        hyphen = re.fullmatch(r"\s*(\S+)\s+-\s+(\S+)\s*", alternative)
        if hyphen:
            alternatives.append(_expand(">=", hyphen[1]) + _expand("<=", hyphen[2]))
            continue
        tokens = re.sub(r"(>=|<=|!=|=>|=<|~>|[><=~^])\s+", r"\1", alternative.replace(",", " ")).split()
        if not tokens:
            raise RangeError(f"empty alternative in {text!r}")
        comparators: list[Comparator] = []
        for token in tokens:
            match = _COMPARATOR.match(token)
            if not match:
                raise RangeError(f"{token!r} is not a comparison such as >=1.31.0")
            comparators += _expand(match[1] or "", match[2])
        alternatives.append(comparators)
    return alternatives


_OPS = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def satisfies(version: Version, alternatives: list[list[Comparator]]) -> bool:
    return any(all(_OPS[op](version, bound) for op, bound in comparators) for comparators in alternatives)


def minors_in_range(range_text: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """The `major.minor` candidates with at least one patch release inside the range."""
    alternatives = parse_range(range_text)
    selected = []
    for candidate in candidates:
        major, minor = (int(p) for p in candidate.split(".")[:2])
        if any(satisfies(Version.of(major, minor, patch), alternatives) for patch in (0, 999_999)):
            selected.append(f"{major}.{minor}")
    return tuple(selected)


# -- Chart.yaml ------------------------------------------------------------------------------


def load_chart_yaml(path: Path) -> SourcedYaml:
    return load_yaml_file(path)


def _problem(chart: SourcedYaml, key: str, message: str, expected: str, actual: Any) -> Finding:
    return failure(
        RULE, f"Chart.yaml `{key}`: {message}", resource="Chart.yaml", field=key, expected=expected,
        actual="(missing)" if actual is None else str(actual),
        file=str(chart.path), line=chart.line_of((key,)),
    )


STRING_FIELDS = (
    "apiVersion", "name", "version", "description", "appVersion", "kubeVersion", "type", "home", "icon",
)


def _field_problems(chart: SourcedYaml) -> list[Finding]:
    data: dict[str, Any] = chart.data
    problems: list[Finding] = []
    for key in data:
        if key not in KNOWN_FIELDS:
            problems.append(_problem(chart, str(key), "unknown field (helm ignores it)",
                                     f"one of: {', '.join(KNOWN_FIELDS)}", key))
    for key in REQUIRED_FIELDS:
        if data.get(key) in (None, ""):
            problems.append(_problem(chart, key, "required field is missing or empty", "a value", None))
    for key in STRING_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            message = "must be a string (quote it: YAML reads 1.10 as the number 1.1)"
            problems.append(_problem(chart, key, message, "a string", f"{type(value).__name__} {value!r}"))
    return problems


def _maintainer_problems(chart: SourcedYaml) -> list[Finding]:
    maintainers = chart.data.get("maintainers")
    if maintainers is None:
        return []
    problems: list[Finding] = []
    for entry in maintainers if isinstance(maintainers, list) else [maintainers]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            problems.append(_problem(chart, "maintainers", "every maintainer needs a `name`",
                                     "a list of {name, email?, url?}", entry))
        elif unknown := sorted(set(entry) - set(MAINTAINER_FIELDS)):
            problems.append(_problem(chart, "maintainers", "unknown maintainer field",
                                     f"only {', '.join(MAINTAINER_FIELDS)}", unknown))
    return problems


def _value_problems(chart: SourcedYaml, directory: str) -> list[Finding]:
    data: dict[str, Any] = chart.data
    given = {key: value for key, value in data.items() if isinstance(value, str) and value}
    problems: list[Finding] = []

    def check(key: str, ok: bool, message: str, expected: str) -> None:
        if key in given and not ok:
            problems.append(_problem(chart, key, message, expected, given[key]))

    check("apiVersion", given.get("apiVersion") == "v2", "Helm 3+ charts use apiVersion v2", "v2")
    check("version", bool(SEMVER.match(given.get("version", ""))), "not a semantic version",
          "MAJOR.MINOR.PATCH (semver 2)")
    check("name", given.get("name") == directory, "must match the chart's directory name", directory)
    check("type", given.get("type") in CHART_TYPES, "unknown chart type", " or ".join(CHART_TYPES))
    if "kubeVersion" in given:
        try:
            parse_range(given["kubeVersion"])
        except RangeError as exc:
            check("kubeVersion", False, f"not a version range helm can parse: {exc}",
                  "a range such as '>=1.31.0-0 <1.36.0-0'")
    return [*problems, *_maintainer_problems(chart)]


def validate_chart_yaml(path: str | Path) -> list[InputError | Finding]:
    """Every problem with a Chart.yaml: an InputError when it cannot be read, else one Finding per problem."""
    path = Path(path)
    try:
        chart = load_chart_yaml(path)
    except InputError as exc:
        return [exc]
    return [*_field_problems(chart), *_value_problems(chart, path.resolve().parent.name)]
