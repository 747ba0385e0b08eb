#!/usr/bin/env python3
"""Benchmark the default check against its floor: helm doing the same work alone.

    scripts/benchmark.py [--sizes 3,30,300] [--rounds 3]

For each size N the script builds a temporary copy of the chart with N
environment values files (copies of development, staging and production in
turn) and a temporary budget naming them, then alternates, in the same run:

- floor: for each environment `helm template` and `helm lint --strict`, then
  one `helm package`, one after another through plain subprocesses: the helm
  work CI's validation does, and nothing else.
- check: `python -m policies check --mode warn --format json` as a new
  process, as `make check` runs it (its default: one sample per helm
  operation), i.e. imports, rendering, lint, package, parsing, every policy,
  the Kubernetes schema validation and the report.

It prints the median of each, the ratio check / floor (targets: <= 1.5 for 3
environments, <= 1.3 for 300), the cost per environment, the check's peak
memory (resident set), where one environment's time goes stage by stage, and
the machine. Run both in one go so they see the same load. A benchmark, not a
test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from policies import CHART_DIR
from policies.budget import BUDGET_FILE, load_budget
from policies.context import CheckContext
from policies.engine import API_VERSIONS
from policies.helm import DEFAULT_KUBE_VERSION, Helm, find_helm
from policies.kubeschema import chart_kube_versions, validate_manifests
from policies.manifests import parse_manifests
from policies.render import (
    check_values_schema,
    helm_template_args,
    load_values_layers,
    render_environment,
    values_file_for,
)
from policies.rules import run_all

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
        helm(*helm_template_args([values_file_for(name, chart)], DEFAULT_KUBE_VERSION, API_VERSIONS, chart))
        helm("lint", "--strict", str(chart), "--kube-version", DEFAULT_KUBE_VERSION,
             "--values", str(values_file_for(name, chart)))
    helm("package", str(chart), "--destination", str(package_dir))
    return time.perf_counter() - started


def check(chart: Path, budget: Path, waivers: Path, report: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of `python -m policies check` as its own process."""
    command = [sys.executable, "-m", "policies", "check", "--mode", "warn", "--format", "json",
               "--chart", str(chart), "--budget", str(budget), "--waivers", str(waivers), "--output", str(report)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"check exited {process.returncode}; see {report}")
    return seconds, usage.ru_maxrss


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
    render = render_environment(environment, api_versions=API_VERSIONS, helm=helm)
    args = helm_template_args([values_file_for(environment)], DEFAULT_KUBE_VERSION, API_VERSIONS)
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
        ("import the harness (python -m policies check --help)", median_ms(lambda: subprocess.run(
            [sys.executable, "-m", "policies", "check", "--help"], check=True, capture_output=True), rounds=5)),
        ("values files: load with line numbers", median_ms(lambda: load_values_layers(environment))),
        ("values schema", median_ms(lambda: check_values_schema(layers))),
        ("parse rendered manifests", median_ms(lambda: parse_manifests(render.text))),
        ("budget policies", median_ms(lambda: run_all(ctx))),
        ("Kubernetes schemas", median_ms(lambda: validate_manifests(render.manifests, versions, environment))),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,30,300", help="environment counts to measure (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (300 environments: 1)")
    args = parser.parse_args(argv)
    helm = find_helm()
    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or 'cpu unknown'}, "
          f"Python {platform.python_version()}, helm {helm.version_text}, load average {load[0]:.1f} at start",
          flush=True)
    header = ("envs", "floor s", "check s", "check/floor", "floor ms/env", "check ms/env", "check peak MiB")
    rows = []
    for count in (int(s) for s in args.sizes.split(",")):
        rounds = 1 if count >= 300 else args.rounds
        with tempfile.TemporaryDirectory(prefix="pf-bench-") as tmp:
            chart, budget, waivers, names = build_fixture(Path(tmp), count)
            report, package_dir = Path(tmp) / "report.json", Path(tmp) / "dist"
            check(chart, budget, waivers, report)  # warm-up: page cache, helm's first exec
            floors, checks, peaks = [], [], []
            for _ in range(rounds):  # interleaved, so both see the same machine load
                floors.append(floor(helm.path, chart, names, package_dir))
                seconds, peak = check(chart, budget, waivers, report)
                checks.append(seconds)
                peaks.append(peak)
            f, c = statistics.median(floors), statistics.median(checks)
            rows.append((str(count), f"{f:.2f}", f"{c:.2f}", f"{c / f:.2f}x", f"{f / count * 1000:.0f}",
                         f"{c / count * 1000:.0f}", f"{max(peaks) / 1024:.0f}"))
            print(f"  {count} environments: floor {f:.2f} s, check {c:.2f} s", file=sys.stderr, flush=True)
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print("\nWhere one environment's time goes (production, median of 10, ms):")
    for stage, ms in stage_costs(helm):
        print(f"  {stage:<54} {ms:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
