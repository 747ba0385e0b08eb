"""Which checks ran in a run, which could not (and why), and how long each took.

Reports must not claim a check passed when it never ran: JUnit lists a testcase
only for a check that ran and marks the others skipped with the reason. The
policy families are timed per environment; a family's time is shared evenly by
its rules (they are judged in one walk over the pods, not one by one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

from policies.checks import baseline, chartmeta, phasetarget, pipeline, review, timing
from policies.core.outcome import CheckRun
from policies.judging import waivers

T = TypeVar("T")


def timed(module: ModuleType, environment: str | None, work: Callable[[], Iterable[T]]
          ) -> tuple[list[T], list[CheckRun]]:
    """Run one family's check and record a run per rule it declares, sharing the time evenly."""
    started = time.perf_counter()
    found = list(work())
    share = (time.perf_counter() - started) / max(len(module.RULES), 1)
    return found, [CheckRun(rule, environment, None, share) for rule in module.RULES]


def skipped(module: ModuleType, environment: str | None, reason: str) -> list[CheckRun]:
    return [CheckRun(rule, environment, reason) for rule in module.RULES]


@dataclass(frozen=True)
class RunFacts:
    """What a run did, as the pipeline-level checks depend on it."""

    manifests_only: bool  # --manifests: nothing rendered, helm never run
    timing_runs: int
    measurements: bool
    baseline: bool
    waivers: bool
    seconds: float = 0.0  # time of the pipeline-level stage (helm timings, figures, baseline)


def pipeline_runs(facts: RunFacts) -> list[CheckRun]:
    """A run, a skip (could not run) or an unwanted entry for every check of no single environment."""
    no_helm = "--manifests: helm is not run"
    plan: dict[str, tuple[str | None, bool]] = {}  # rule -> (why it did not run, whether the run asked for it)
    for rule in chartmeta.RULES:
        plan[rule] = ("--manifests: no chart is read", True) if facts.manifests_only else (None, True)
    for rule in timing.RULES:
        if facts.timing_runs <= 0:
            # Timing off is the run's choice, not a check that could not run: no testcase, not <skipped>.
            # The helm stage too: without lint and package its time is not the stage the SLA is about.
            plan[rule] = ("--timing-runs 0: helm is not timed", False)
        elif facts.manifests_only:
            plan[rule] = (no_helm, True)
        else:
            plan[rule] = (None, True)
    # CI's helmValidationSeconds figure is judged under the helm stage's rule (declared in timing.py).
    for rule in (*pipeline.RULES, timing.STAGE_RULE):
        if rule == timing.STAGE_RULE and not facts.measurements:
            continue  # without CI figures the rule is the run's own helm stage, planned above
        plan[rule] = (None, True) if facts.measurements else ("no --measurements file with CI figures", False)
    no_baseline = ("no --baseline to compare with", False)
    for rule in phasetarget.RULES:
        plan[rule] = (None, True) if facts.baseline else no_baseline
    for rule in baseline.RULES:
        if not facts.baseline:
            plan[rule] = no_baseline
        elif rule in ("regression.image-size", "regression.build-time") and not facts.measurements:
            plan[rule] = ("no --measurements file: no CI figures to compare with the baseline", True)
        elif rule == "regression.stage-time" and not facts.measurements and facts.timing_runs <= 0:
            plan[rule] = ("no helm timings (--timing-runs 0) or CI figures to compare with the baseline", True)
        else:
            plan[rule] = (None, True)
    for rule in review.RULES:
        plan[rule] = (None, True)
    for rule in waivers.RULES:
        plan[rule] = (None, True) if facts.waivers else ("the waivers file lists no waivers", False)
    ran = sum(1 for reason, _ in plan.values() if reason is None)
    share = facts.seconds / max(ran, 1)
    return [CheckRun(rule, None, reason, share if reason is None else 0.0, wanted)
            for rule, (reason, wanted) in plan.items()]
