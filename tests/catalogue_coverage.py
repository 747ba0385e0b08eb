"""Rule ids the harness emits during the tests, held against the catalogue (policies/catalogue.py).

Every Finding the harness's own code constructs is recorded with its rule id
(findings a test builds by hand, and copies made with dataclasses.replace, are
not). Two checks follow:
- a test in which harness code emits an id the catalogue does not declare fails
  (in its teardown), naming the id;
- a full run (`make test`: the default test paths, no -k, -m, --lf or -x stop)
  fails when a catalogued id was never emitted by any test: every rule needs a
  violating case. `CATALOGUE_COVERAGE=1` reports the missing ids on a partial run too.

Works under pytest-xdist: workers send their ids to the controller.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from policies.catalogue import CATALOGUE
from policies.core.findings import Finding

# Frames between a harness call site and Finding.__init__ that are not the call site.
HELPERS = ("policies.core.findings",)
EMITTED: set[str] = set()
_test_emitted: set[str] = set()
_original_init = Finding.__init__


def emitting_module(depth: int = 2) -> str | None:
    """The module that asked for the Finding being built: None for a dataclasses.replace copy."""
    frame = sys._getframe(depth)
    while frame is not None and frame.f_globals.get("__name__") in HELPERS:
        frame = frame.f_back
    if frame is None:
        return None
    name = frame.f_globals.get("__name__", "")
    return None if name == "dataclasses" else name


def _recording_init(self: Finding, *args: object, **kwargs: object) -> None:
    _original_init(self, *args, **kwargs)
    module = emitting_module()
    if module and module.startswith("policies."):
        EMITTED.add(self.rule)
        _test_emitted.add(self.rule)


Finding.__init__ = _recording_init  # type: ignore[method-assign]


# Each test's ids are gathered from the start of its setup to the end of its teardown by two hooks, not by an
# autouse fixture: a fixture costs every test a setup and a teardown through pytest's fixture machinery (about
# 0.15 ms, half a second over the suite).
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _test_emitted.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    undeclared = sorted(_test_emitted - set(CATALOGUE))
    if undeclared:
        pytest.fail(f"harness code emitted rule ids that policies/catalogue.py does not declare: {undeclared}; "
                    "declare each with Rule(...) in the RULES of the module that emits it", pytrace=False)


def _full_run(session: pytest.Session) -> bool:
    config = session.config
    option = config.option
    return (config.args_source is pytest.Config.ArgsSource.TESTPATHS and not option.keyword
            and not option.markexpr and not getattr(option, "lf", False) and not getattr(option, "deselect", None)
            and not session.shouldstop)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller judges
        workeroutput["emitted_rules"] = sorted(EMITTED)
        return
    if not (_full_run(session) or os.environ.get("CATALOGUE_COVERAGE")):
        return
    missing = sorted(set(CATALOGUE) - EMITTED)
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (f"catalogued rules that no test makes the harness emit (each needs a violating case): "
                   f"{', '.join(missing)}")
        if reporter:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
        if _full_run(session):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    EMITTED.update(getattr(node, "workeroutput", {}).get("emitted_rules", ()))
