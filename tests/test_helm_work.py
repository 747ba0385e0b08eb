"""A run's helm calls: started before the engine, one timed call at a time, renders first; the defaults
render kept by content. No test here depends on how fast this machine is: the order of calls is read
from a log the stub writes, never from a clock."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from policies import CHART_DIR
from policies.helmwork import SWITCH_INTERVAL, HelmPlan, HelmWork
from policies.render.helm import Helm
from policies.render.helmcalls import RenderSettings, helm_template_args
from policies.render.rendercache import cached_stdout

ENVIRONMENTS = ("development", "staging", "production")


def logging_helm(directory: Path, real: Helm) -> tuple[Helm, Path]:
    """NOT helm: a stub that logs each call's start and end (command, a "defaults" mark for a render
    without --values, its process id) around the real helm's run."""
    log = directory / "calls.log"
    stub = directory / "logging-helm-stub"
    stub.write_text(
        "#!/bin/sh\n"
        'what="$1"; case " $* " in *" --values "*) ;; *) [ "$1" = template ] && what=defaults ;; esac\n'
        f'echo "start $what $$" >> {log}\n{real.path} "$@"\ncode=$?\necho "end $what $$" >> {log}\nexit $code\n',
        encoding="utf-8")
    stub.chmod(0o755)
    return Helm(path=stub, version=real.version), log


def chart_copy(directory: Path) -> Path:
    chart = directory / CHART_DIR.name
    shutil.copytree(CHART_DIR, chart)
    return chart


def test_should_run_renders_first_then_lints_then_the_package_never_two_timed_calls_at_once(helm, tmp_path):
    chart = chart_copy(tmp_path)  # a new chart: the defaults render is not cached yet
    stub, log = logging_helm(tmp_path, helm)
    with HelmWork(stub, HelmPlan(ENVIRONMENTS, RenderSettings(chart=chart), timing_runs=1)) as work:
        timings = work.timings()
        base = work.base_text()
        development = work.render("development")
    events = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    # The defaults render is untimed and may overlap anything; the timed calls run one at a time.
    assert [kind for kind, what, _ in events if what == "defaults"] == ["start", "end"]
    timed = [(kind, what) for kind, what, _ in events if what != "defaults"]
    assert timed == [(kind, what) for what in ["template"] * 3 + ["lint"] * 3 + ["package"]
                     for kind in ("start", "end")]
    assert [(t.operation.budget_key, t.operation.environment, len(t.samples)) for t in timings] == [
        ("lint", "development", 1), ("template", "development", 1), ("lint", "staging", 1),
        ("template", "staging", 1), ("lint", "production", 1), ("template", "production", 1),
        ("package", None, 1)]
    assert timings[1].samples == (development.seconds,)  # the checked render is the template sample
    assert "values-development.yaml" in development.command and "kind: Deployment" in base


def test_should_take_a_warm_up_and_n_samples_per_operation_when_asked_for_more(helm, tmp_path):
    chart = chart_copy(tmp_path)
    stub, log = logging_helm(tmp_path, helm)
    with HelmWork(stub, HelmPlan(("production",), RenderSettings(chart=chart), timing_runs=2)) as work:
        timings = work.timings()
    started = [what for kind, what, _ in (line.split() for line in log.read_text().splitlines())
               if kind == "start" and what != "defaults"]
    # The render is the template's warm-up; lint and package get one each.
    assert started == ["template", "lint", "lint", "lint", "template", "template", "package", "package", "package"]
    assert [len(t.samples) for t in timings] == [2, 2, 2]


def test_should_make_no_call_after_it_is_closed(helm, tmp_path):
    chart = chart_copy(tmp_path)
    stub, log = logging_helm(tmp_path, helm)
    work = HelmWork(stub, HelmPlan(ENVIRONMENTS, RenderSettings(chart=chart), timing_runs=1))
    work.close()
    started = log.read_text(encoding="utf-8").count("start") if log.exists() else 0
    assert started <= 2  # at most the call under way and the defaults render
    work.close()  # a second close is harmless


def test_should_reuse_the_defaults_render_until_the_chart_changes(helm, tmp_path):
    chart = chart_copy(tmp_path)
    stub, log = logging_helm(tmp_path, helm)
    cache = tmp_path / "cache"
    args = helm_template_args([], RenderSettings(chart=chart))
    first = cached_stdout(stub, args, chart, cache)
    assert cached_stdout(stub, args, chart, cache) == first
    assert log.read_text(encoding="utf-8").count("start defaults") == 1
    values = chart / "values.yaml"
    values.write_text(values.read_text(encoding="utf-8").replace("replicaCount: 1", "replicaCount: 2"),
                      encoding="utf-8")
    changed = cached_stdout(stub, args, chart, cache)
    assert log.read_text(encoding="utf-8").count("start defaults") == 2
    assert changed != first
    other = helm_template_args([], RenderSettings(chart=chart, kube_version="1.33.0"))
    cached_stdout(stub, other, chart, cache)  # other arguments: rendered
    assert log.read_text(encoding="utf-8").count("start defaults") == 3


def test_should_start_helm_before_importing_the_engine_the_budget_or_any_yaml_or_schema_library():
    probe = ("import sys\n"
             "from policies.cli import build_parser, render_settings, start_helm_work\n"
             "args = build_parser().parse_args(['check', '--timing-runs', '0'])\n"
             "work = start_helm_work(args, render_settings(args))\n"
             "heavy = ('policies.engine', 'policies.inputs.budget', 'jsonschema', 'deepdiff', 'yaml')\n"
             "print(sorted(m for m in heavy if m in sys.modules))\n"
             "print('kind: Deployment' in work.render('production').stdout)\n"
             "work.close()\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def gated_helm(directory: Path, real: Helm) -> tuple[Helm, Path, Path]:
    """NOT helm: a stub that notes it started, waits for a gate file (at most 60 s), then runs the real helm."""
    started, gate = directory / "started", directory / "gate"
    stub = directory / "gated-helm-stub"
    stub.write_text(f"#!/bin/sh\ntouch {started}\nfor _ in $(seq 600); do [ -e {gate} ] && break; sleep 0.1; done\n"
                    f'exec {real.path} "$@"\n', encoding="utf-8")
    stub.chmod(0o755)
    return Helm(path=stub, version=real.version), started, gate


def wait_for(path: Path) -> None:
    for _ in range(600):  # a 60 s bound for a stub to start, not a timing
        if path.exists():
            return
        time.sleep(0.1)


def test_should_hand_the_gil_over_often_only_while_helm_runs(helm, tmp_path):
    default = sys.getswitchinterval()
    stub, started, gate = gated_helm(tmp_path, helm)
    with HelmWork(stub, HelmPlan(("production",), RenderSettings(chart=chart_copy(tmp_path)), timing_runs=1)) as work:
        wait_for(started)
        during = sys.getswitchinterval()
        gate.touch()
        work.timings()
    assert (during, sys.getswitchinterval()) == (SWITCH_INTERVAL, default)


def test_should_keep_the_quick_hand_over_until_the_last_of_two_overlapping_runs_ends(helm, tmp_path):
    default = sys.getswitchinterval()
    chart = chart_copy(tmp_path)
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first_stub, first_started, first_gate = gated_helm(tmp_path / "first", helm)
    second_stub, second_started, second_gate = gated_helm(tmp_path / "second", helm)
    first = HelmWork(first_stub, HelmPlan(("production",), RenderSettings(chart=chart), timing_runs=0))
    second = HelmWork(second_stub, HelmPlan(("production",), RenderSettings(chart=chart), timing_runs=0))
    wait_for(first_started)
    wait_for(second_started)
    first_gate.touch()
    first.close()
    after_first = sys.getswitchinterval()
    second_gate.touch()
    second.close()
    assert (after_first, sys.getswitchinterval()) == (SWITCH_INTERVAL, default)
