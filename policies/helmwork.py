"""A run's helm calls, started first and run back to back in the background.

The check's speed target is its floor: helm doing the same work alone (scripts/benchmark.py). So helm
never waits for Python. Every call is known from the command line alone (each environment's `helm
template` and `helm lint --strict`, the chart's `helm package`), so `check` starts them before it imports
its rules and schemas, and they run one after another in one thread while the values, schemas and
policies are checked beside them. Timed calls never run at the same time (two at once would each slow the
other's measurement); Python work takes the other core.

Order: every environment's render first (the checks wait on them), then the timing samples (each
environment's lint, more template samples when asked for, the chart's package), so each environment's
checks finish while the last calls run. The render of the chart defaults (the drift guard's base,
untimed) comes from the render cache or runs beside the others.

While helm runs, the interpreter hands the GIL over every 0.5 ms instead of every 5 ms. The
thread that starts helm and reads its output needs the GIL for a moment at each step (the fork, each
chunk of output, the exit), and the checks beside it hold it; at Python's default interval each of those
moments can wait up to 5 ms, which adds to the wall time of every call and to the time measured for it.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from policies.render.helm import Helm, HelmError, HelmResult
from policies.render.helmcalls import (
    DEFAULT_SETTINGS,
    Operation,
    RenderSettings,
    helm_template_args,
    lint_operation,
    package_operation,
    template_operation,
)
from policies.render.helmtimes import Timing, time_operation, time_template

if TYPE_CHECKING:
    import tempfile

T = TypeVar("T")

# Seconds between GIL hand-overs while helm runs (Python's default is 0.005).
SWITCH_INTERVAL = 0.0005


class _QuickHandOver:
    """The lower switch interval, held by every HelmWork whose calls are running: the first to start sets it,
    the last to finish puts back what was there before (they may overlap in a library caller or a test)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._before = sys.getswitchinterval()

    def __enter__(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(min(SWITCH_INTERVAL, self._before))
            self._holders += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                sys.setswitchinterval(self._before)


_QUICK_HAND_OVER = _QuickHandOver()


@dataclass(frozen=True)
class HelmPlan:
    """What decides a run's helm calls; equal plans (environments in any order) make the same calls."""

    environments: tuple[str, ...]
    settings: RenderSettings = DEFAULT_SETTINGS
    timing_runs: int = 0  # samples per operation (policies/checks/timing.py); 0: renders only

    def same_calls(self, other: HelmPlan) -> bool:
        return (sorted(self.environments) == sorted(other.environments)
                and dataclasses.replace(self, environments=other.environments) == other)

    def template(self, environment: str) -> Operation:
        return template_operation(environment, self.settings)

    def lint(self, environment: str) -> Operation:
        return lint_operation(environment, self.settings)


class Cancelled(HelmError):
    """The run stopped (bad input elsewhere) before this helm call started."""


class HelmWork:
    """The plan's helm calls, running from construction until done or closed; results as futures."""

    def __init__(self, helm: Helm, plan: HelmPlan) -> None:
        self.helm, self.plan = helm, plan
        self.started = time.perf_counter()
        self.seconds = 0.0  # wall time from the first call's start to the last call's end
        self._renders: dict[str, Future[HelmResult]] = {env: Future() for env in plan.environments}
        self._timings: Future[list[Timing]] = Future()
        self._base: Future[str] = Future()
        self._stop = threading.Event()
        self._package_dir: tempfile.TemporaryDirectory[str] | None = None  # made when the package call is due
        self._threads = [threading.Thread(target=self._run_timed, name="helm-timed", daemon=True),
                         threading.Thread(target=self._run_base, name="helm-base", daemon=True)]
        for thread in self._threads:
            thread.start()

    # -- what the check reads ------------------------------------------------------------------------------

    def render(self, environment: str) -> HelmResult:
        """The environment's `helm template` (raises its HelmError)."""
        return self._renders[environment].result()

    def base_text(self) -> str:
        """The chart rendered with values.yaml alone (raises its HelmError)."""
        return self._base.result()

    def timings(self) -> list[Timing]:
        """Each environment's lint and template timing, in plan order, then the package's (none with 0 runs)."""
        return self._timings.result()

    def close(self) -> None:
        """Start no further call, wait for the one running, and remove the package folder (idempotent)."""
        self._stop.set()
        try:
            for thread in self._threads:
                thread.join()
        finally:  # a second Ctrl-C during the join still removes the folder
            if self._package_dir:
                self._package_dir.cleanup()

    def __enter__(self) -> HelmWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- the two threads -----------------------------------------------------------------------------------

    def _run_timed(self) -> None:
        plan, runs = self.plan, self.plan.timing_runs
        try:
            with _QUICK_HAND_OVER:
                self._run_calls(plan, runs)
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits on the result
            self._timings.set_exception(error)
        finally:
            self.seconds = time.perf_counter() - self.started

    def _run_calls(self, plan: HelmPlan, runs: int) -> None:
        for env in plan.environments:
            _settle(self._renders[env], lambda env=env: self._call(*plan.template(env).args))
        timings: list[Timing] = []
        if runs:
            for env in plan.environments:
                self._check_stop()
                timings.append(time_operation(self.helm, plan.lint(env), runs))
                self._check_stop()
                timings.append(self._template_timing(env))
            self._check_stop()
            import tempfile  # lazy: imported here, after helm started, not before

            self._package_dir = tempfile.TemporaryDirectory(prefix="helm-package-")
            package = package_operation(Path(self._package_dir.name), plan.settings.chart)
            timings.append(time_operation(self.helm, package, runs))
        self._timings.set_result(timings)

    def _template_timing(self, env: str) -> Timing:
        """The checked render is the sample; with more runs it was their warm-up (policies/render/helmtimes.py)."""
        operation = self.plan.template(env)
        render = self._renders[env]
        if render.exception() is not None:
            return Timing(operation, (0.0,), error=str(render.exception()))
        return time_template(self.helm, operation, render.result().seconds, self.plan.timing_runs)

    def _run_base(self) -> None:
        from policies.render.rendercache import cached_stdout  # lazy: hashing and file writing, after helm started

        args = helm_template_args([], self.plan.settings)
        _settle(self._base, lambda: cached_stdout(self.helm, args, self.plan.settings.chart))

    def _call(self, *args: str) -> HelmResult:
        self._check_stop()
        return self.helm.run(*args)

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise Cancelled("the check stopped before this helm call")


def _settle(future: Future[T], work: Callable[[], T]) -> None:
    try:
        future.set_result(work())
    except BaseException as error:  # noqa: BLE001 - handed to whoever waits on the result
        future.set_exception(error)
