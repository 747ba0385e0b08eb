"""The budget: policies/budget.yaml, validated, with typed accessors for the checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from policies import BUDGET_FILE, PACKAGE_DIR
from policies.core.errors import InputError
from policies.core.quantity import parse_resource
from policies.inputs.validation import validate_or_raise
from policies.inputs.yamlsource import SourcedYaml, load_yaml_file

BUDGET_SCHEMA = PACKAGE_DIR / "budget.schema.json"
RESOURCES = ("cpu", "memory")
KINDS = ("requests", "limits")


@dataclass(frozen=True)
class Budget:
    source: SourcedYaml

    @property
    def data(self) -> dict[str, Any]:
        return self.source.data

    @property
    def path(self) -> Path:
        return self.source.path

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def line_of(self, *key_path: str) -> int | None:
        return self.source.line_of(key_path)

    # -- phase ---------------------------------------------------------------
    @property
    def phase(self) -> str:
        return self.data["phase"]["current"]

    @property
    def mode(self) -> str:
        """`warn` or `enforce`, from the phase in force."""
        return self.data["phase"]["phases"][self.phase]["mode"]

    def phase_started(self, phase: str | None = None) -> dt.date | None:
        """The day a phase (default: the one in force) started, if recorded."""
        started = self.data["phase"]["phases"][phase or self.phase].get("started")
        return dt.date.fromisoformat(started) if started else None

    @property
    def reviewed(self) -> dt.date:
        """The day of the budget's last review (review.reviewed)."""
        return dt.date.fromisoformat(self.data["review"]["reviewed"])

    @property
    def enforcing_phase(self) -> str | None:
        """The phase whose enforcement a warn run previews: the current one if it enforces, else the next that does."""
        names = list(self.data["phase"]["phases"])
        for name in names[names.index(self.phase):]:
            if self.data["phase"]["phases"][name]["mode"] == "enforce":
                return name
        return None

    # -- environments --------------------------------------------------------
    @property
    def environments(self) -> list[str]:
        return list(self.data["environments"])

    def environment(self, name: str) -> dict[str, Any]:
        try:
            return self.data["environments"][name]
        except KeyError:
            raise InputError(
                f"unknown environment {name!r}; the budget defines: {', '.join(self.environments)}",
                file=self.path,
                key="environments",
            ) from None

    @cached_property
    def _resource_budgets(self) -> dict[str, dict[tuple[str, str], Decimal]]:
        return {
            env: {
                (kind, resource): parse_resource(resource, spec["resources"][kind][resource])
                for kind in KINDS
                for resource in RESOURCES
            }
            for env, spec in self.data["environments"].items()
        }

    def resource_budget(self, env: str, kind: str, resource: str) -> Decimal:
        """The budget for `requests`/`limits` of `cpu`/`memory` in base units (cores, bytes)."""
        self.environment(env)
        return self._resource_budgets[env][(kind, resource)]

    def resource_text(self, env: str, kind: str, resource: str) -> str:
        return str(self.environment(env)["resources"][kind][resource])

    def requests_floor(self, env: str) -> tuple[Decimal, str]:
        """(percent of the budget, severity) below which an environment's requests are reported:
        the environment's own requestsFloor, else the budget-wide one."""
        default = self.data["requestsFloor"]
        own = self.environment(env).get("requestsFloor") or {}
        return (Decimal(str(own.get("percentOfBudget", default["percentOfBudget"]))),
                str(own.get("severity", default["severity"])))

    def runtime_class_overheads(self, env: str) -> dict[str, Any]:
        """RuntimeClass name -> the overhead (cpu, memory) the environment's cluster adds to pods naming it."""
        return dict(self.environment(env).get("runtimeClassOverhead") or {})


def _check_dates(source: SourcedYaml) -> None:
    """Real calendar days: the schema's pattern lets 2026-02-30 through."""
    phase = source.data["phase"]
    dated = [(("review", "reviewed"), source.data["review"]["reviewed"])]
    dated += [(("phase", "phases", name, "started"), spec["started"])
              for name, spec in phase["phases"].items() if "started" in spec]
    for key_path, text in dated:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"expected a calendar date YYYY-MM-DD, found {text!r}", file=source.path,
                             line=source.line_of(key_path), key=".".join(key_path)) from None


def load_budget(path: str | Path = BUDGET_FILE) -> Budget:
    """Load and validate a budget file; any problem is an InputError with file and line."""
    source = load_yaml_file(path)
    validate_or_raise(BUDGET_SCHEMA, source)
    phase = source.data["phase"]
    if phase["current"] not in phase["phases"]:
        raise InputError(
            f"current phase {phase['current']!r} is not among the phases: {', '.join(phase['phases'])}",
            file=source.path,
            line=source.line_of(("phase", "current")),
            key="phase.current",
        )
    _check_dates(source)
    budget = Budget(source)
    try:
        budget._resource_budgets  # noqa: B018 - parse every quantity now, fail early
    except ValueError as exc:
        raise InputError(f"invalid quantity: {exc}", file=source.path, key="environments") from None
    return budget
