"""The result of a check run: findings, budget use and measurements, and the exit code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from policies.core.findings import Finding, Severity

EXIT_OK, EXIT_FAILURES = 0, 1  # and EXIT_INPUT_ERROR, 2: policies/core/errors.py


@dataclass(frozen=True)
class Measurement:
    """A measured figure judged against a budget limit (helm timings, pipeline figures)."""

    name: str
    unit: str
    value: float
    limit: float | None
    status: str  # ok | warning | failure
    environment: str | None = None
    p95: float | None = None
    samples: int = 1
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CheckRun:
    """One rule's check in one scope: it ran (and took `seconds`), or it was skipped and why."""

    rule: str
    environment: str | None  # None: the run as a whole (helm timings, CI figures, waivers, ...)
    skipped: str | None = None
    seconds: float = 0.0
    # False: the run did not ask for it (timing off, no CI figures, no baseline, no waivers); reports
    # leave such a check out. True with a reason: asked for, but this input cannot support it.
    wanted: bool = True

    @property
    def ran(self) -> bool:
        return self.skipped is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    mode: str
    phase: str
    environments: list[str]
    next_review: str | None = None  # YYYY-MM-DD the budget is next due for review (policies/checks/review.py)
    findings: list[Finding] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    # The phase whose enforcement a warn run previews ("3.4.4 would fail: ...").
    enforcing_phase: str | None = None
    # Every check that ran or was skipped (policies/checkplan.py): reports claim only what ran.
    checks: list[CheckRun] = field(default_factory=list)
    # With --baseline: each environment's rendered totals, baseline against this run (display rows).
    baseline_totals: list[dict[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    @property
    def would_fail(self) -> list[Finding]:
        """Failures the phase turned into warnings: what enforcement would fail on."""
        return [f for f in self.findings
                if f.severity is Severity.FAILURE and not f.enforced and f.waived_by is None]

    @property
    def status(self) -> str:
        """fail, warn (nothing fails but warnings stand) or pass (no failures and no warnings)."""
        if self.failed:
            return "fail"
        return "warn" if any(f.effective_severity == "warning" for f in self.findings) else "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_FAILURES if self.failed else EXIT_OK

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {"failure": 0, "warning": 0, "waived": 0}
        for finding in self.findings:
            counts[finding.effective_severity] += 1
        return {
            "mode": self.mode,
            "phase": self.phase,
            "environments": self.environments,
            "next_review": self.next_review,
            "failures": counts["failure"],
            "warnings": counts["warning"],
            "waived": counts["waived"],
            "status": self.status,
            "would_fail": len(self.would_fail),
            "enforcing_phase": self.enforcing_phase,
            "passed": not self.failed,
            "exit_code": self.exit_code,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "budget_usage": self.usage,
            "measurements": [m.to_dict() for m in self.measurements],
            "checks": [c.to_dict() for c in self.checks],
            "baseline_totals": self.baseline_totals,
        }
