"""Shared fixtures: the budget, helm, and one cached render per environment per session."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sessionrenders import CachedRenders

from policies import CHART_DIR
from policies.checks.drift import render_base
from policies.helmwork import HelmWork
from policies.inputs.budget import Budget, load_budget
from policies.render.helm import Helm, HelmError, HelmResult, find_helm
from policies.render.helmcalls import RenderSettings
from policies.render.manifests import ManifestIndex
from policies.render.render import Render, render_environment

ENVIRONMENTS = load_budget().environments
# The suite starts about 500 short-lived Go processes (helm, kubectl, promtool), each done in well under a second
# and a hundred MB. Their garbage collector is then work for nothing: off, helm's CPU per render drops by about a
# fifth, on a machine the suite keeps busy on every core. GOMEMLIMIT is the ceiling at which Go collects again, so
# a process that does grow is still bounded (the one long promtool run sets its own, tests/promtoolkit.py). Set
# here, every process the tests start inherits it; a value already in the environment is kept. The product's own
# helm calls (make check, make bench outside the tests) are not affected.
os.environ.setdefault("GOGC", "off")
os.environ.setdefault("GOMEMLIMIT", "512MiB")
# Every rule the harness emits in a test is catalogued, and every catalogued rule fails in some test.
pytest_plugins = ["catalogue_coverage"]


@pytest.fixture(scope="session")
def budget() -> Budget:
    return load_budget()


@pytest.fixture(scope="session")
def helm() -> Helm:
    """The pinned helm, run through the `sh` library (the check itself uses a plain subprocess)."""
    return find_helm().via_sh()


@pytest.fixture(scope="session")
def render_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session renders are shared between xdist workers (tests/sessionrenders.py): pytest's
    cache folder (git-ignored), or with the cache plugin off a folder all workers of this run share."""
    config_cache = getattr(request.config, "cache", None)
    if config_cache is not None:
        return config_cache.mkdir("helm-renders")
    return tmp_path_factory.getbasetemp().parent / "helm-renders"


@pytest.fixture(scope="session", autouse=True)
def untimed_checks_share_renders(render_cache: Path) -> Generator[None, None, None]:
    """A check a test runs inside its own process with `--timing-runs 0` takes its renders from the shared cache.

    Dozens of those runs render a shipped environment with the same chart, values, helm and arguments, each a
    fresh `helm template` whose output was already known. With no timing asked for, the render's only use is
    its text, and the cache (tests/sessionrenders.py) answers exactly what helm answered for the same key: the
    pinned helm's content, the arguments and the content of every file and folder they name. Only successful
    renders are kept, so helm's errors still come from helm. Left alone: runs that time helm (their renders are
    the template samples), any other helm binary (the stubs that hang, sleep or fail on purpose), and every
    check started as its own process (make check, the entry point tests). Without a usable helm there is
    nothing to share: the tests that need helm say why they cannot run, the others run."""
    try:
        pinned = find_helm().path.resolve()
    except HelmError:
        yield
        return
    run_helm = HelmWork._call

    def call(work: HelmWork, *args: str) -> HelmResult:
        if work.plan.timing_runs or work.helm.path.resolve() != pinned:
            return run_helm(work, *args)
        work._check_stop()
        return CachedRenders(work.helm, render_cache).run(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HelmWork, "_call", call)
        yield


@pytest.fixture(scope="session")
def render_env(helm: Helm, render_cache: Path) -> Callable[[str], Render]:
    """Render an environment once per session (helm template is the slow part), shared between workers."""
    cached = CachedRenders(helm, render_cache)
    cache: dict[str, Render] = {}

    def render(environment: str) -> Render:
        if environment not in cache:
            cache[environment] = render_environment(environment, helm=cached)
        return cache[environment]

    return render


@pytest.fixture(scope="session", params=ENVIRONMENTS, ids=lambda env: f"env={env}")
def rendered(request: pytest.FixtureRequest, render_env: Callable[[str], Render]) -> Render:
    return render_env(request.param)


@pytest.fixture
def render_overlay(helm: Helm, tmp_path: Path) -> Callable[..., Render]:
    """Render an environment with an extra values overlay (a dict), as `--values` would."""

    def render(environment: str, overlay: dict[str, Any], **kwargs: Any) -> Render:
        extra = tmp_path / f"overlay-{environment}.yaml"
        extra.write_text(yaml.safe_dump(overlay), encoding="utf-8")
        return render_environment(environment, RenderSettings(extra_values=(extra,)), helm=helm, **kwargs)

    return render


@pytest.fixture(scope="session")
def chart_dir() -> Path:
    return CHART_DIR


@pytest.fixture(scope="session")
def render_env_helm3(render_cache: Path) -> Callable[[str], Render]:
    """Render an environment once per session with the pinned Helm 3 ($HELM3), settings as render_env."""
    helm3 = CachedRenders(find_helm("HELM3").via_sh(), render_cache)
    cache: dict[str, Render] = {}

    def render(environment: str) -> Render:
        if environment not in cache:
            cache[environment] = render_environment(environment, helm=helm3, validate_values=False)
        return cache[environment]

    return render


@pytest.fixture(scope="session")
def base_render(helm: Helm) -> ManifestIndex:
    """The chart rendered with values.yaml alone (what each environment is a diff over); render_base keeps
    it between runs and processes itself (policies/render/rendercache.py), so workers share it already."""
    return render_base(helm=helm)


def pytest_configure(config: pytest.Config) -> None:
    """Python's cycle collector, tuned for a test run: a young generation of 10,000 objects instead of 700.

    The rule tests build and parse thousands of small documents, and at the default a collection starts every
    700 allocations. Garbage is still collected, in larger batches: over the rule, Pod Security, fuzz and guard
    sizing test files, 1.5 s in 2,701 collections (18 full) at the default, 0.3 s in 138 (3 full) with this and
    the freeze below."""
    gc.set_threshold(10_000, 10, 10)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The collected tests live until the run ends: moved out of the collector's sight (gc.freeze), the full
    collections the run still makes no longer walk every test item, fixture definition and mark."""
    gc.freeze()


@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> Generator[None, int, int]:
    """`-n auto` (make test): one worker more than pytest-xdist would start, one per core. Part of the suite
    waits rather than computes (stub helms that sleep past a limit, loopback services that answer slowly on
    purpose, a browser, a cluster that never answers), and a worker that waits leaves its core idle; the extra
    worker takes it. PYTEST_XDIST_AUTO_NUM_WORKERS, when set, is taken as it is."""
    cores = yield
    return cores if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") else cores + 1


def pytest_addoption(parser: pytest.Parser) -> None:
    # The cluster tests' settings (tests/e2e). Declared here because pytest takes
    # command-line options only from the top-level conftest of the test paths.
    group = parser.getgroup("e2e", "cluster tests (tests/e2e)")
    group.addoption("--kube-context", default=None,
                    help="kubeconfig context for the cluster tests (else $KUBE_CONTEXT, else the current one)")
    group.addoption("--e2e-values", action="append", default=[], metavar="FILE",
                    help="extra values file for every cluster-test install, e.g. a reachable image (repeatable)")
