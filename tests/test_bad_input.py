"""Every bad input to `python -m policies` (check, baseline, docs) ends in exit code 2 and one clear message."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from policies import CHART_DIR, REPO_ROOT
from policies.cli import main
from policies.core.paths import display_path
from policies.inputs.budget import BUDGET_FILE
from policies.render import helm as helm_module
from policies.render.helm import find_helm

EXIT_INPUT_ERROR = 2
# A fake helm is allowed only where the point is how the harness treats a broken helm.
FAKE_HELM = "#!/bin/sh\nif [ \"$1\" = version ]; then echo {version}; exit 0; fi\n{body}\n"


@dataclass(frozen=True)
class Invocation:
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    expected: tuple[str, ...] = ()


def _write(path: Path, text: str, mode: int | None = None) -> Path:
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path


def _values(tmp_path: Path, text: str) -> Path:
    return _write(tmp_path / "extra-values.yaml", text)


def _staging_with(path: Path) -> list[str]:
    return ["--env", "staging", "--values", str(path)]


def malformed_yaml(tmp_path: Path) -> Invocation:
    path = _values(tmp_path, "replicaCount: 2\nresources: [\n  limits\n")
    return Invocation(_staging_with(path), expected=(f"{path}:4:1:", "malformed YAML"))


def unknown_key(tmp_path: Path) -> Invocation:
    path = _values(tmp_path, "replicaCount: 2\nresurces:\n  limits:\n    cpu: 1\n")
    return Invocation(_staging_with(path), expected=(f"{path}:2:", "key 'resurces'", "resources"))


def wrong_type(tmp_path: Path) -> Invocation:
    path = _values(tmp_path, "replicaCount: three\n")
    return Invocation(_staging_with(path), expected=(f"{path}:1:", "key 'replicaCount'", "integer"))


def memory_in_gigabits(tmp_path: Path) -> Invocation:
    path = _values(tmp_path, "resources:\n  limits:\n    memory: 1Gb\n")
    return Invocation(_staging_with(path), expected=(f"{path}:3:", "key 'resources.limits.memory'", "1Gb"))


def cpu_in_mebibytes(tmp_path: Path) -> Invocation:
    path = _values(tmp_path, "resources:\n  requests:\n    cpu: 100Mi\n")
    return Invocation(_staging_with(path), expected=(f"{path}:3:", "key 'resources.requests.cpu'", "100Mi"))


def empty_values_file(tmp_path: Path) -> Invocation:
    path = _values(tmp_path, "# nothing here\n")
    return Invocation(_staging_with(path), expected=(str(path), "empty"))


def missing_values_file(tmp_path: Path) -> Invocation:
    path = tmp_path / "no-such-values.yaml"
    return Invocation(_staging_with(path), expected=(str(path), "--values file not found"))


def unknown_environment(tmp_path: Path) -> Invocation:
    return Invocation(["--env", "nope"], expected=("--env nope: unknown environment", "policies/budget.yaml",
                                                   "staging"))


def malformed_budget(tmp_path: Path) -> Invocation:
    path = _write(tmp_path / "budget.yaml", BUDGET_FILE.read_text(encoding="utf-8") + "\n  broken: [\n")
    return Invocation(["--env", "staging", "--budget", str(path)], expected=(f"{path}:", "malformed YAML"))


def budget_missing_a_section(tmp_path: Path) -> Invocation:
    text = BUDGET_FILE.read_text(encoding="utf-8").replace("\nenvironments:", "\nenvironmentz:", 1)
    path = _write(tmp_path / "budget.yaml", text)
    return Invocation(["--env", "staging", "--budget", str(path)], expected=(f"{path}:", "environments"))


def helm_missing(tmp_path: Path) -> Invocation:
    return Invocation(["--env", "staging"], {"HELM": "/nonexistent/helm"}, ("/nonexistent/helm", "not found"))


def helm_not_executable(tmp_path: Path) -> Invocation:
    helm = _write(tmp_path / "helm", "#!/bin/sh\necho v3.17.3\n", mode=stat.S_IRUSR | stat.S_IWUSR)
    return Invocation(["--env", "staging"], {"HELM": str(helm)}, (str(helm), "not executable"))


def helm_too_old(tmp_path: Path) -> Invocation:
    helm = _write(tmp_path / "helm", FAKE_HELM.format(version="v3.10.0", body="exit 1"), mode=0o755)
    return Invocation(["--env", "staging"], {"HELM": str(helm)}, (str(helm), "v3.10.0", "3.14"))


def helm_hanging(tmp_path: Path) -> Invocation:
    helm = _write(tmp_path / "helm", FAKE_HELM.format(version="v3.17.3", body="exec sleep 30"), mode=0o755)
    # Half a second: the stub answers `version` at once and never answers `template`, so only the wait changes.
    return Invocation(["--env", "staging", "--helm-timeout", "0.5"], {"HELM": str(helm)},
                      ("did not finish within 0.5 s", f"{helm} template"))


def template_fails_to_render(tmp_path: Path) -> Invocation:
    chart = tmp_path / CHART_DIR.name
    shutil.copytree(CHART_DIR, chart)
    _write(chart / "templates" / "broken.yaml", "kind: ConfigMap\ndata: {{ include \"no-such-define\" . }}\n")
    return Invocation(["--env", "staging", "--chart", str(chart)],
                      expected=("templates/broken.yaml:2", "no-such-define"))


# Input the harness itself judges: checked through `main`, in this process (a new Python per case cost
# more than the whole rest of the case).
BAD_INPUTS: dict[str, Callable[[Path], Invocation]] = {
    "malformed-yaml": malformed_yaml,
    "unknown-key": unknown_key,
    "wrong-type": wrong_type,
    "quantity-1Gb": memory_in_gigabits,
    "cpu-100Mi": cpu_in_mebibytes,
    "empty-values-file": empty_values_file,
    "missing-values-file": missing_values_file,
    "unknown-environment": unknown_environment,
    "malformed-budget": malformed_budget,
    "budget-missing-section": budget_missing_a_section,
    "template-fails": template_fails_to_render,
}
# A broken helm, given as $HELM. The helm a process finds is looked up once per process (find_helm is
# cached), so each case clears that lookup before and after it, and keeps the version cache in its own folder:
# `main` in this process then meets the broken helm exactly as a new `python -m policies` would.
BAD_HELMS: dict[str, Callable[[Path], Invocation]] = {
    "helm-missing": helm_missing,
    "helm-not-executable": helm_not_executable,
    "helm-too-old": helm_too_old,
    "helm-hanging": helm_hanging,
}


def run_check(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m policies check` in a new process: the entry point itself, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "policies", "check", *args], cwd=cwd, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )


def run_main(argv: list[str]) -> int:
    """`main` in this process, ending as `python -m policies` ends: its return value, or the code of the
    SystemExit it raises (argparse's own exit for an option it cannot parse)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1


def assert_one_clear_error(code: int, stdout: str, stderr: str, invocation: Invocation) -> None:
    assert "Traceback" not in stderr + stdout
    assert code == EXIT_INPUT_ERROR, stderr
    assert stderr.startswith("error: "), stderr
    missing = [fragment for fragment in invocation.expected if fragment not in stderr]
    assert missing == [], stderr


@pytest.mark.parametrize("make_invocation", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_should_exit_2_with_a_clear_message_for_bad_input(
    tmp_path: Path, make_invocation: Callable[[Path], Invocation], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    invocation = make_invocation(tmp_path)
    assert invocation.env == {}, "a case that changes the environment runs in its own process (BAD_HELMS)"
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["check", *invocation.args])
    out, err = capsys.readouterr()
    assert_one_clear_error(code, out, err, invocation)


@pytest.mark.parametrize("make_invocation", BAD_HELMS.values(), ids=BAD_HELMS.keys())
def test_should_exit_2_with_a_clear_message_for_a_broken_helm(
    tmp_path: Path, make_invocation: Callable[[Path], Invocation], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    invocation = make_invocation(tmp_path)
    for name, value in invocation.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(helm_module, "VERSION_CACHE", tmp_path / "versions.json")
    monkeypatch.chdir(tmp_path)
    helm_module.find_helm.cache_clear()
    capsys.readouterr()
    try:
        code = main(["check", *invocation.args])
    finally:
        helm_module.find_helm.cache_clear()  # the next test finds the pinned helm again
    out, err = capsys.readouterr()
    assert_one_clear_error(code, out, err, invocation)


def test_should_pass_the_same_check_with_good_input(tmp_path: Path) -> None:
    values = _values(tmp_path, "replicaCount: 3\n")
    result = run_check(_staging_with(values), {}, cwd=REPO_ROOT)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr + result.stdout



@pytest.mark.parametrize(("args", "expected"), [
    (["baseline", "--budget", "missing-budget.yaml", "--timing-runs", "0"], "missing-budget.yaml"),
    (["baseline", "--timing-runs", "0", "--measurements", "missing-measurements.yaml"], "missing-measurements.yaml"),
    (["baseline", "--timing-runs", "many"],
     "error: argument --timing-runs: expected a whole number of runs, 0 or more (0: no timing), found 'many'\n"),
    (["docs", "--unknown"], "unrecognized arguments"),
])
def test_should_exit_2_the_same_way_in_every_subcommand(
    tmp_path: Path, args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "baseline.json"
    where = ["--output", str(output)] if args[0] == "baseline" else []
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = run_main([*args, *where])  # an uncaught exception fails the test, as a traceback would
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert code == EXIT_INPUT_ERROR, err
    assert expected in err
    assert not output.exists()  # nothing half-written


# Option errors are bad input too: one `error:` line naming the option and what it expects, exit 2, and the
# reports of an earlier run replaced (as `make check MODE=bogus` or `TIMING_RUNS=abc` would otherwise leave them).
RUNS_EXPECTED = "expected a whole number of runs, 0 or more (0: no timing)"
SECONDS_EXPECTED = "expected a number of seconds greater than 0"
DATE_EXPECTED = "expected a date written YYYY-MM-DD"


@pytest.mark.parametrize(("option", "expected"), [
    (["--mode", "bogus"], "argument --mode: invalid choice: 'bogus' (choose from 'warn', 'enforce')"),
    (["--timing-runs", "abc"], f"argument --timing-runs: {RUNS_EXPECTED}, found 'abc'"),
    (["--timing-runs", "-1"], f"argument --timing-runs: {RUNS_EXPECTED}, found '-1'"),
    (["--helm-timeout", "-5"], f"argument --helm-timeout: {SECONDS_EXPECTED}, found '-5'"),
    (["--helm-timeout", "0"], f"argument --helm-timeout: {SECONDS_EXPECTED}, found '0'"),
    (["--helm-timeout", "inf"], f"argument --helm-timeout: {SECONDS_EXPECTED}, found 'inf'"),
    (["--helm-timeout", "soon"], f"argument --helm-timeout: {SECONDS_EXPECTED}, found 'soon'"),
    (["--today", "2026-02-30"], f"argument --today: {DATE_EXPECTED}, found '2026-02-30'"),
    (["--today", "27/11/2026"], f"argument --today: {DATE_EXPECTED}, found '27/11/2026'"),
])
def test_should_replace_earlier_reports_when_an_option_is_bad(
    tmp_path: Path, option: list[str], expected: str, capsys: pytest.CaptureFixture[str],
) -> None:
    reports, output = tmp_path / "reports", tmp_path / "out.json"
    reports.mkdir()
    (reports / "check.json").write_text('{"summary": {"status": "warn"}}', encoding="utf-8")
    output.write_text("earlier verdict", encoding="utf-8")
    capsys.readouterr()
    code = main(["check", "--env", "staging", *option, "--reports-dir", str(reports),
                 "--output", str(output), "--format", "json"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT_ERROR
    assert [line for line in err.splitlines() if line.startswith("error:")] == [f"error: {expected}"]
    for report in (reports / "check.json", output):
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
        assert (summary["status"], summary["exit_code"], summary["message"]) == ("error", 2, expected)


def test_should_accept_zero_timing_runs_and_a_fractional_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["check", "--env", "staging", "--timing-runs", "0", "--helm-timeout", "120.5",
                 "--reports-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "check.json").read_text(encoding="utf-8"))["summary"]["status"] != "error"


# One `error:` line, naming the option at fault, with repository files shown relative to the repository.
def test_should_say_in_one_line_that_helm_refuses_the_kubernetes_version(capsys: pytest.CaptureFixture[str]) -> None:
    helm = display_path(find_helm().path)
    supported = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["kubeVersion"]
    assert main(["check", "--env", "staging", "--timing-runs", "0", "--kube-version", "1.20.0"]) == EXIT_INPUT_ERROR
    assert capsys.readouterr().err.splitlines() == [
        f"error: helm failed (exit 1): {helm} template prompted-forge-mcp charts/prompted-forge-mcp --namespace "
        "prompted-forge-mcp --kube-version 1.20.0 --values charts/prompted-forge-mcp/values-staging.yaml: chart "
        f"requires kubeVersion: {supported} which is incompatible with Kubernetes v1.20.0"]


@pytest.mark.parametrize(("args", "expected"), [
    (["--env", "prod"], "error: --env prod: unknown environment; expected one of the environments "
                        "policies/budget.yaml defines: development, staging, production"),
    (["--env", "staging", "--values", "{tmp}"],
     "error: {tmp}: --values names a directory; expected a YAML values file"),
    (["--env", "staging", "--values", "{tmp}/nope.yaml"], "error: {tmp}/nope.yaml: --values file not found"),
    (["--env", "staging", "--values", "charts/nope.yaml"], "error: charts/nope.yaml: --values file not found"),
    (["--env", "staging", "--waivers", "{tmp}"], "error: {tmp}: is a directory; expected a file"),
], ids=["unknown-env", "values-directory", "values-missing", "values-missing-in-repo", "waivers-directory"])
def test_should_name_the_option_at_fault(
    tmp_path: Path, args: list[str], expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    tmp = str(tmp_path.resolve())
    assert main(["check", "--timing-runs", "0", *(arg.format(tmp=tmp) for arg in args)]) == EXIT_INPUT_ERROR
    assert capsys.readouterr().err.splitlines() == [expected.format(tmp=tmp)]
