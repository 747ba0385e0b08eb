"""A helm call's timed samples: a warm-up when there is more than one run, then the runs, median and p95.

How the samples are judged against the budget is policies/checks/timing.py's job; this is only the
measuring, which `check` starts before it imports the budget (policies/helmwork.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from policies.render.helm import Helm, HelmError
from policies.render.helmcalls import Operation


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Timing:
    operation: Operation
    samples: tuple[float, ...]
    error: str | None = None  # helm failed, so there is nothing to time

    @property
    def median(self) -> float:
        # The middle sample (the mean of the two middle ones); `statistics` costs more to import than to write.
        ordered, middle = sorted(self.samples), len(self.samples) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)


def time_operation(helm: Helm, operation: Operation, runs: int, *, warm_up: bool | None = None) -> Timing:
    """`runs` timed runs, after a warm-up run when there is more than one (or when warm_up says so)."""
    samples: list[float] = []
    try:
        if warm_up if warm_up is not None else runs > 1:
            helm.run(*operation.args)
        for _ in range(runs):
            samples.append(helm.run(*operation.args).seconds)
    except HelmError as exc:
        return Timing(operation, tuple(samples) or (0.0,), error=exc.message)
    return Timing(operation, tuple(samples))


def time_template(helm: Helm, operation: Operation, render_seconds: float, runs: int) -> Timing:
    """The checked render is the template sample; with more runs it is their warm-up instead."""
    if runs <= 1:
        return Timing(operation, (render_seconds,))
    return time_operation(helm, operation, runs, warm_up=False)
