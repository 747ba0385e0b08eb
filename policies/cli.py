"""`python -m policies check | baseline | docs`: the one command, with one error path.

check: the main job. Exit 0 pass (or warn mode), 1 failures (enforce), 2 bad input.
baseline: render, time and (optionally) read CI figures, then write policies/baseline.json.
docs: regenerate docs/budget.md, the chart's dashboard and its picture, and the chart README's
values table (--check: exit 1 when a committed one is stale).
Every subcommand reports bad input the same way: one `error:` line on stderr and exit 2.
What only a subcommand needs is imported when it runs, so `--help` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from policies import BUDGET_FILE, CHART_DIR, WAIVERS_FILE
from policies.core.errors import EXIT_INPUT_ERROR, InputError
from policies.core.paths import display_path
from policies.inputs.samples import DEFAULT_RUNS, RUNS_VARIABLE, default_runs
from policies.render.helm import DEFAULT_KUBE_VERSION, find_helm
from policies.reports import FORMATS, REPORT_FILES, render_report

if TYPE_CHECKING:
    from policies.helmwork import HelmWork
    from policies.render.helmcalls import RenderSettings


class UsageError(InputError):
    """A command-line option argparse refuses: bad input like any other, so it takes the same error path."""


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as input errors (exit 2) in our own words."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


def whole_number_of_runs(text: str) -> int:
    """--timing-runs: 0 or more; a negative count would silently turn timing off."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of runs, 0 or more (0: no timing), found {text!r}")
    return int(text)


def positive_seconds(text: str) -> float:
    """--helm-timeout: a finite number of seconds above 0; 0 or less would time out every helm call at once."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds greater than 0, found {text!r}")
    return seconds


def calendar_date(text: str) -> dt.date:
    """--today: a calendar date written YYYY-MM-DD (argparse's own message would name `fromisoformat`)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date written YYYY-MM-DD, found {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m policies", description="Performance-budget checks for the chart.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="render environments and check them against the budget")
    check.add_argument("--env", action="append", dest="environments", metavar="NAME",
                       help="environment to check (repeatable; default: every environment in the budget)")
    check.add_argument("--values", action="append", type=Path, default=[], metavar="FILE",
                       help="extra values file layered over the environment's own (repeatable)")
    check.add_argument("--manifests", type=Path, metavar="FILE",
                       help="check already-rendered manifests against the given environment's budget")
    check.add_argument("--mode", choices=("warn", "enforce"), help="override the budget phase's mode")
    check.add_argument("--format", choices=tuple(FORMATS), default="table", help="stdout/--output format")
    check.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--reports-dir", type=Path, metavar="DIR",
                       help=f"also write {', '.join(REPORT_FILES)} into DIR")
    check.add_argument("--budget", type=Path, default=BUDGET_FILE, metavar="FILE", help="budget data file")
    check.add_argument("--waivers", type=Path, default=WAIVERS_FILE, metavar="FILE", help="waivers file")
    check.add_argument("--chart", type=Path, default=CHART_DIR, metavar="DIR", help="chart directory")
    check.add_argument("--kube-version", default=DEFAULT_KUBE_VERSION, help="Kubernetes version to render for")
    check.add_argument("--helm-timeout", type=positive_seconds, default=None, metavar="SECONDS",
                       help="give up on a helm call after this long")
    check.add_argument("--timing-runs", type=whole_number_of_runs, default=None, metavar="N",
                       help="samples per helm operation: 1 times the one lint, render and package each "
                            "environment needs anyway; N > 1 adds a warm-up and N timed runs, judged by "
                            f"their median (default ${RUNS_VARIABLE} or {DEFAULT_RUNS}; 0: no timing, lint "
                            "or package)")
    check.add_argument("--measurements", type=Path, metavar="FILE",
                       help="CI figures (YAML/JSON) to judge against the budget's tiers and SLAs")
    check.add_argument("--baseline", type=Path, metavar="FILE",
                       help="compare figures and rendered totals with this baseline (make baseline)")
    check.add_argument("--today", type=calendar_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                       help="the date waivers, enforce-from dates and the budget review are judged against")
    baseline = commands.add_parser("baseline", help="rewrite the baseline: helm timings, rendered totals, CI figures")
    baseline.add_argument("--output", type=Path, metavar="FILE",
                          help="baseline to write (default: policies/baseline.json)")
    baseline.add_argument("--measurements", type=Path, metavar="FILE", help="CI measurements to record")
    baseline.add_argument("--budget", type=Path, default=BUDGET_FILE, metavar="FILE", help="budget data file")
    baseline.add_argument("--timing-runs", type=whole_number_of_runs, default=None, metavar="N",
                          help="timed runs per helm operation")
    docs = commands.add_parser("docs", help="regenerate the documents generated from the budget and the chart")
    docs.add_argument("--check", action="store_true", help="fail (exit 1) when a committed document is stale")
    return parser


class Progress:
    """One stderr line per environment checked, so a long run shows it is moving."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.lock = total, 0, threading.Lock()

    def __call__(self, environment: str) -> None:
        with self.lock:
            self.done += 1
            print(f"checked {environment} ({self.done}/{self.total})", file=sys.stderr, flush=True)


def check_environment_files(chart: Path, environments: list[str], budget_file: Path) -> None:
    """Every values-<name>.yaml is an environment: one the budget does not define would never be checked."""
    for path in sorted([*chart.glob("values-*.yaml"), *chart.glob("values-*.yml")]):
        name = path.name.removeprefix("values-").rsplit(".", 1)[0]
        if path.suffix != ".yaml":
            raise InputError(f"environment values files are named values-<name>.yaml, so this one would never be "
                             f"checked; rename it to values-{name}.yaml", file=path)
        if name not in environments:
            raise InputError(
                f"values file for environment {name!r}, which {budget_file.name} does not define, so it would "
                f"never be checked; add {name!r} to environments in {display_path(budget_file)} (or remove the file). "
                f"The budget defines: {', '.join(environments)}", file=path)


def check_values_option(path: Path) -> None:
    """A --values file that is not there says which option named it (a typo in a path is the usual cause)."""
    if path.is_dir():
        raise InputError("--values names a directory; expected a YAML values file", file=path)
    if not path.exists():
        raise InputError("--values file not found", file=path)


def environment_names(chart: Path) -> list[str]:
    """The environments the chart has values files for (the budget must define exactly these)."""
    return sorted(path.name.removeprefix("values-").removesuffix(".yaml") for path in chart.glob("values-*.yaml"))


def timing_runs(args: argparse.Namespace) -> int:
    return default_runs() if args.timing_runs is None else args.timing_runs


def render_settings(args: argparse.Namespace) -> RenderSettings:
    """The render settings the command line asks for: built here once, for the helm calls and the engine."""
    from policies.render.helmcalls import RenderSettings  # lazy: --help needs none of it

    return RenderSettings(chart=args.chart.resolve(), kube_version=args.kube_version, extra_values=tuple(args.values))


def start_helm_work(args: argparse.Namespace, settings: RenderSettings) -> HelmWork | None:
    """Start the run's helm calls before anything else, or None when the command line cannot name them yet.

    They need only the command line and the chart's values files, so helm runs while the engine is imported
    and the budget read. Whatever is wrong with the input is reported later, as it would be without this;
    the engine checks the calls are the ones it needs and starts its own when they are not.
    """
    if args.manifests:
        return None
    chart = settings.chart
    environments = args.environments or environment_names(chart)
    if not (chart / "Chart.yaml").is_file() or not environments:
        return None
    if not all((chart / f"values-{env}.yaml").is_file() for env in environments):
        return None
    try:
        helm = find_helm()
        runs = timing_runs(args)
    except InputError:
        return None
    if args.helm_timeout:
        helm = helm.with_timeout(args.helm_timeout)
    from policies.helmwork import HelmPlan, HelmWork  # lazy: --help needs none of it

    return HelmWork(helm, HelmPlan(tuple(environments), settings, runs))


def run(args: argparse.Namespace) -> int:
    settings = render_settings(args)
    helm_work = start_helm_work(args, settings)
    try:
        return run_check_command(args, settings, helm_work)
    finally:
        if helm_work:
            helm_work.close()


def run_check_command(args: argparse.Namespace, settings: RenderSettings, helm_work: HelmWork | None) -> int:
    # The engine (rules, schemas, drift, baselines) is imported once the arguments are known to be a check
    # to run, so `--help` and usage errors answer at once; helm is already running.
    from policies.engine import CheckRequest, run_check  # lazy: start-up speed
    from policies.inputs.budget import load_budget  # lazy: start-up speed
    from policies.judging.waivers import load_waivers  # lazy: start-up speed

    budget = load_budget(args.budget)
    environments = args.environments or budget.environments
    if args.manifests and not args.environments:
        raise InputError("--manifests needs --env NAME: whose budget should the manifests meet?",
                         file=args.manifests)
    if args.manifests and args.values:
        raise InputError("--values has no effect with --manifests (nothing is rendered)", file=args.values[0])
    for env in args.environments or ():
        if env not in budget.environments:
            raise InputError(f"--env {env}: unknown environment; expected one of the environments "
                             f"{display_path(budget.path)} defines: {', '.join(budget.environments)}")
    for path in args.values:
        check_values_option(path)
    chart = settings.chart
    if not (chart / "Chart.yaml").is_file():
        raise InputError("not a chart directory (no Chart.yaml)", file=chart)
    if not args.manifests:
        check_environment_files(chart, budget.environments, budget.path)
    for env in environments if not args.manifests else ():
        if not (chart / f"values-{env}.yaml").is_file():
            raise InputError(f"environment {env!r} has no values file", file=chart / f"values-{env}.yaml")
    helm = None
    if not args.manifests:
        helm = find_helm()
        if args.helm_timeout:
            helm = helm.with_timeout(args.helm_timeout)
    request = CheckRequest(
        environments=environments, budget=budget, waivers=load_waivers(args.waivers), settings=settings,
        manifests_file=args.manifests, mode=args.mode, helm=helm, helm_work=helm_work, today=args.today,
        timing_runs=timing_runs(args),
        measurements_file=args.measurements, baseline_file=args.baseline,
        progress=Progress(len(environments)) if not args.manifests else None,
    )
    outcome = run_check(request)
    from policies.core.atomic import write_text_atomic  # lazy: start-up speed

    report = render_report(outcome, args.format)
    if args.output:
        write_text_atomic(args.output, report)
    else:
        sys.stdout.write(report)
    if args.reports_dir:
        for name, fmt in REPORT_FILES.items():
            write_text_atomic(args.reports_dir / name, render_report(outcome, fmt))
        print(f"reports written to {args.reports_dir}/", file=sys.stderr)
    return outcome.exit_code


def run_baseline(args: argparse.Namespace) -> int:
    """Render, time and (optionally) read CI figures, then write the baseline."""
    from policies.checks import baseline  # lazy: start-up speed
    from policies.checks.phasetarget import record_phase_start  # lazy: start-up speed
    from policies.checks.pipeline import load_measurements  # lazy: start-up speed
    from policies.checks.timing import measure_helm  # lazy: start-up speed
    from policies.engine import CheckRequest, evaluate  # lazy: start-up speed
    from policies.inputs.budget import load_budget  # lazy: start-up speed

    output = args.output or baseline.BASELINE_FILE
    budget = load_budget(args.budget)
    figures = load_measurements(args.measurements).figures if args.measurements else {}
    helm = find_helm()
    runs = default_runs() if args.timing_runs is None else args.timing_runs
    request = CheckRequest(environments=budget.environments, budget=budget, helm=helm)
    rendered = {r.ctx.environment: baseline.rendered_totals(r.ctx.manifests) for r in evaluate(request)}
    timed = measure_helm(helm, budget, budget.environments, runs, request.settings) if runs else None
    # Figures recorded when a phase started are kept across refreshes: phase targets are relative to them.
    previous = baseline.load_baseline(output) if output.exists() else None
    document = baseline.snapshot(figures=figures, timings=timed.timings if timed else (), rendered=rendered,
                                 helm_version=helm.version_text, kube_version=request.settings.kube_version,
                                 phase_starts=record_phase_start(previous, budget.phase, figures))
    baseline.write_baseline(output, document)
    print(f"baseline written to {output}", file=sys.stderr)
    return 0


def run_docs(args: argparse.Namespace) -> int:
    """Every generated document, written (or with --check compared); 1 when any is stale."""
    from policies.docs import budgetdoc, dashboard, dashboardsvg, valuesdoc  # lazy: start-up speed

    return max(generator.sync(args.check) for generator in (budgetdoc, dashboard, dashboardsvg, valuesdoc))


COMMANDS = {"check": run, "baseline": run_baseline, "docs": run_docs}


def write_error_reports(args: argparse.Namespace, error: InputError) -> None:
    """Replace --output and --reports-dir reports with ones saying the run stopped on bad input."""
    if args.command != "check":  # only check writes reports (baseline's --output is the baseline itself)
        return
    targets = [(args.output, args.format)] if args.output else []
    if args.reports_dir:
        targets += [(args.reports_dir / name, fmt) for name, fmt in REPORT_FILES.items()]
    from policies.core.atomic import write_text_atomic  # lazy: start-up speed
    from policies.reports.inputerror import render_input_error  # lazy: only after bad input

    for path, fmt in targets:
        try:
            write_text_atomic(path, render_input_error(error, fmt))
        except OSError as exc:
            print(f"error: cannot write the error report {path}: {exc}", file=sys.stderr)


def report_targets(argv: list[str]) -> argparse.Namespace | None:
    """What a check whose options argparse refused asked for its reports, when that much can be read.

    An option error is bad input like any other, so the reports of an earlier run must not survive it.
    """
    lenient = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    lenient.add_argument("command", nargs="?")
    lenient.add_argument("--output", type=Path)
    lenient.add_argument("--reports-dir", type=Path)
    lenient.add_argument("--format", default="table")
    try:
        targets, _ = lenient.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit):
        return None
    if targets.format not in FORMATS:  # the --output format is unknown: only --reports-dir can be written
        targets.output = None
    return targets


def report_input_error(args: argparse.Namespace | None, error: InputError) -> int:
    print(f"error: {error}", file=sys.stderr)
    if args is None:
        return EXIT_INPUT_ERROR
    if getattr(args, "format", None) == "github":
        from policies.reports import github  # lazy: only after bad input

        sys.stdout.write(github.input_error(error))
    write_error_reports(args, error)
    return EXIT_INPUT_ERROR


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return report_input_error(report_targets(argv), exc)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        return report_input_error(args, exc)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        write_error_reports(args, InputError("interrupted before the check finished"))
        return 130
    except Exception as exc:
        # A crash is reported by its traceback; the reports must not keep an earlier run's verdict either.
        write_error_reports(args, InputError(f"the check crashed: {exc.__class__.__name__}: {exc}"))
        raise
