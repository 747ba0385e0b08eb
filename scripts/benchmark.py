#!/usr/bin/env python3
"""Benchmark the default check against its floor: helm doing the same work alone.

    scripts/benchmark.py [--sizes 3,30,300] [--rounds 5] [--large-rounds 1] [--help-runs 20]

For each size N the script builds a temporary copy of the chart with N
environment values files (copies of development, staging and production in
turn) and a temporary budget naming them, then alternates, in the same run
(floor, check, floor, check, ...), so both see the same machine load:

- floor: for each environment `helm template` and `helm lint --strict`, then
  one `helm package`, one after another through plain subprocesses: the helm
  work CI's validation does, and nothing else.
- check: `python -m policies check --mode warn --format json` as a new
  process, as `make check` runs it (its default: one sample per helm
  operation), i.e. imports, rendering, lint, package, parsing, every policy,
  the Kubernetes schema validation and the report.

It prints the median of each, the ratio check / floor (targets: <= 1.5 for 3
environments, <= 1.3 for 300), the cost per environment, the check's peak
memory (resident set), the load average around each size, where the check's
time went (its helm calls against the floor's, the wall time outside its helm
stage, its Python checks), `check --help` timed like hyperfine (repeated runs,
median and spread), where one environment's time goes stage by stage, and the
machine. Sizes of 100 environments or more take --large-rounds rounds. A
benchmark, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import yaml

from policies import CHART_DIR
from policies.checks import kubeschema
from policies.checks.context import CheckContext
from policies.checks.kubeschema import chart_kube_versions, validate_manifests
from policies.checks.rules import run_all
from policies.inputs.budget import BUDGET_FILE, load_budget
from policies.render.helm import DEFAULT_KUBE_VERSION, Helm, find_helm
from policies.render.helmcalls import RenderSettings, helm_template_args, values_file_for
from policies.render.manifests import parse_manifests
from policies.render.render import check_values_schema, load_values_layers, render_environment

BASES = ("development", "staging", "production")


def build_fixture(directory: Path, count: int) -> tuple[Path, Path, Path, list[str]]:
    """A chart copy with `count` environments, a budget naming them, and an empty waivers file."""
    chart = directory / CHART_DIR.name  # Chart.yaml's name must match its directory
    shutil.copytree(CHART_DIR, chart)
    budget = yaml.safe_load(BUDGET_FILE.read_text(encoding="utf-8"))
    bases = dict(budget["environments"])
    names = list(BASES) if count == len(BASES) else [f"{BASES[i % 3]}-{i:03d}" for i in range(count)]
    budget["environments"] = {}
    for index, name in enumerate(names):
        base = BASES[index % 3]
        if name != base:
            shutil.copyfile(values_file_for(base, CHART_DIR), values_file_for(name, chart))
        budget["environments"][name] = bases[base]
    for base in set(BASES) - set(names):  # every values file is an environment the budget must name
        values_file_for(base, chart).unlink()
    budget_file = directory / "budget.yaml"
    budget_file.write_text(yaml.safe_dump(budget, sort_keys=False), encoding="utf-8")
    waivers = directory / "waivers.yaml"
    waivers.write_text("waivers: []\n", encoding="utf-8")
    return chart, budget_file, waivers, names


def floor(helm_path: Path, chart: Path, names: list[str], package_dir: Path) -> float:
    """Wall time of helm alone doing the check's helm work: template and lint each environment, package once."""
    def helm(*args: str) -> None:
        subprocess.run([str(helm_path), *args], check=True, capture_output=True)

    started = time.perf_counter()
    for name in names:
        helm(*helm_template_args([values_file_for(name, chart)], RenderSettings(chart=chart)))
        helm("lint", "--strict", str(chart), "--kube-version", DEFAULT_KUBE_VERSION,
             "--values", str(values_file_for(name, chart)))
    helm("package", str(chart), "--destination", str(package_dir))
    return time.perf_counter() - started


@dataclass(frozen=True)
class CheckRun:
    seconds: float  # wall time of the process
    peak_kib: int  # its peak resident set
    helm_stage: float  # the check's own helm stage: first helm call to the last one's end
    helm_calls: float  # the sum of its timed helm calls (what the floor runs, measured inside the check)
    python_checks: float  # the sum of its per-rule check times (they run beside helm)


def check(chart: Path, budget: Path, waivers: Path, report: Path) -> CheckRun:
    """`python -m policies check` as its own process, and what its JSON report says about its time."""
    command = [sys.executable, "-m", "policies", "check", "--mode", "warn", "--format", "json",
               "--chart", str(chart), "--budget", str(budget), "--waivers", str(waivers), "--output", str(report)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    # 1 is a finished run with failures: the copies beyond three are not named by policies/drift.yaml's
    # environment-scoped entries, so their drift guard fails; the work is the same as a passing run's.
    if process.returncode not in (0, 1):
        raise SystemExit(f"check exited {process.returncode}; see {report}")
    data = json.loads(report.read_text(encoding="utf-8"))
    rows = data["measurements"]
    stage = next(m["value"] for m in rows if m["name"] == "helm validation stage")
    calls = sum(m["value"] * m["samples"] for m in rows if m["name"] in ("helm lint", "helm template", "helm package"))
    python = sum(c["seconds"] or 0.0 for c in data["checks"] if c["environment"])
    return CheckRun(seconds, usage.ru_maxrss, stage, calls, python)


def command_seconds(command: list[str], runs: int) -> list[float]:
    """A command's wall times, hyperfine-style: one warm-up, then `runs` runs."""
    samples = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        if index:
            samples.append(time.perf_counter() - started)
    return samples


def median_ms(action: Callable[[], object], rounds: int = 10) -> float:
    action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def stage_costs(helm: Helm, environment: str = "production") -> list[tuple[str, float]]:
    """Where one environment's check time goes, stage by stage, in milliseconds (one thread)."""
    render = render_environment(environment, helm=helm)
    args = helm_template_args([values_file_for(environment)])
    layers = load_values_layers(environment)
    ctx = CheckContext(environment, load_budget(), render.manifests, render.layers)
    versions = chart_kube_versions(CHART_DIR)
    return [
        ("helm template, plain subprocess (the floor)",
         median_ms(lambda: subprocess.run([str(helm.path), *args], check=True, capture_output=True))),
        ("helm template through Helm.run (what check runs)", median_ms(lambda: helm.run(*args))),
        ("helm template through sh (what the test fixtures run)", median_ms(lambda: helm.via_sh().run(*args))),
        ("helm lint --strict, plain subprocess", median_ms(lambda: subprocess.run(
            [str(helm.path), "lint", "--strict", str(CHART_DIR), "--kube-version", DEFAULT_KUBE_VERSION,
             "--values", str(values_file_for(environment))], check=True, capture_output=True), rounds=5)),
        ("start-up until helm can start (check --help)", median_ms(lambda: subprocess.run(
            [sys.executable, "-m", "policies", "check", "--help"], check=True, capture_output=True), rounds=5)),
        ("import the engine (runs while helm renders)", median_ms(lambda: subprocess.run(
            [sys.executable, "-c", "import policies.engine"], check=True, capture_output=True), rounds=5)),
        ("values files: load with line numbers", median_ms(lambda: load_values_layers(environment))),
        ("values schema", median_ms(lambda: check_values_schema(layers))),
        ("parse rendered manifests", median_ms(lambda: parse_manifests(render.text))),
        ("budget policies", median_ms(lambda: run_all(ctx))),
        # Each document is validated once per run (a repeat is a cache hit), so each sample starts with that
        # cache empty; the first also with no validator built (the first environment of a run pays for those).
        ("Kubernetes schemas, validators built first", median_ms(lambda: schemas_from_scratch(
            render.manifests, versions, environment), rounds=3)),
        ("Kubernetes schemas, validators already built", median_ms(lambda: schemas_uncached(
            render.manifests, versions, environment))),
    ]


def schemas_uncached(manifests: object, versions: tuple[str, ...], environment: str) -> object:
    kubeschema._document_problems.cache_clear()
    return validate_manifests(manifests, versions, environment)


def schemas_from_scratch(manifests: object, versions: tuple[str, ...], environment: str) -> object:
    for cached in (kubeschema.validator_for, kubeschema._definitions):
        cached.cache_clear()
    return schemas_uncached(manifests, versions, environment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,30,300", help="environment counts to measure (comma-separated)")
    parser.add_argument("--rounds", type=int, default=5, help="floor/check pairs per size below 100 environments")
    parser.add_argument("--large-rounds", type=int, default=1, help="floor/check pairs per size of 100 or more")
    parser.add_argument("--help-runs", type=int, default=20, help="timed runs of check --help")
    args = parser.parse_args(argv)
    helm = find_helm()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
          f"helm {helm.version_text}, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    header = ("envs", "rounds", "load", "floor s", "check s", "check/floor", "floor ms/env", "check ms/env",
              "check peak MiB")
    rows, breakdown = [], []
    for count in (int(s) for s in args.sizes.split(",")):
        rounds = args.large_rounds if count >= 100 else args.rounds
        with tempfile.TemporaryDirectory(prefix="pf-bench-") as tmp:
            chart, budget, waivers, names = build_fixture(Path(tmp), count)
            report, package_dir = Path(tmp) / "report.json", Path(tmp) / "dist"
            check(chart, budget, waivers, report)  # warm-up: page cache, helm's first exec, the defaults render
            load_before = os.getloadavg()[0]
            floors: list[float] = []
            checks: list[CheckRun] = []
            for _ in range(rounds):  # interleaved, so both see the same machine load
                floors.append(floor(helm.path, chart, names, package_dir))
                checks.append(check(chart, budget, waivers, report))
            load = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
            f, c = statistics.median(floors), statistics.median(r.seconds for r in checks)
            rows.append((str(count), str(rounds), load, f"{f:.2f}", f"{c:.2f}", f"{c / f:.2f}x",
                         f"{f / count * 1000:.0f}", f"{c / count * 1000:.0f}",
                         f"{max(r.peak_kib for r in checks) / 1024:.0f}"))
            median_run = sorted(checks, key=lambda r: r.seconds)[len(checks) // 2]
            breakdown.append((count, f, median_run))
            print(f"  {count} environments: floor {f:.2f} s, check {c:.2f} s ({c / f:.2f}x), load {load}",
                  file=sys.stderr, flush=True)
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    print("\nWhere the check's time went (its median run; seconds):")
    print("  envs  floor  check  check's helm calls  check's helm stage  outside the helm stage  Python checks")
    for count, f, r in breakdown:
        print(f"  {count:>4}  {f:5.2f}  {r.seconds:5.2f}  {r.helm_calls:18.2f}  {r.helm_stage:18.2f}  "
              f"{r.seconds - r.helm_stage:22.2f}  {r.python_checks:13.2f}")
    print()
    # Alternating, so both see the same load: the interpreter alone is what no import saving can remove.
    help_samples: list[float] = []
    bare_samples: list[float] = []
    for _ in range(args.help_runs):
        help_samples += command_seconds([sys.executable, "-m", "policies", "check", "--help"], 1)
        bare_samples += command_seconds([sys.executable, "-c", "pass"], 1)
    for label, samples in (("check --help (target: under 150 ms)", help_samples),
                           ("python -c pass (the interpreter alone)", bare_samples)):
        print(f"{label:<40} median {statistics.median(samples) * 1000:4.0f} ms, min {min(samples) * 1000:4.0f} ms, "
              f"max {max(samples) * 1000:4.0f} ms over {len(samples)} runs")
    print("\nWhere one environment's time goes (production, median of 10, ms):")
    for stage, ms in stage_costs(helm):
        print(f"  {stage:<54} {ms:7.1f}")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


def cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "cpu unknown"


if __name__ == "__main__":
    sys.exit(main())
