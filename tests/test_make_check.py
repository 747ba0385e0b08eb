"""`make check` follows the budget's phase (MODE overrides it), and safety rules fail in every phase.

Runs make itself, as a user's shell does: the phase in force is 3.4.3 (warn).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from policies import REPO_ROOT
from policies.inputs.budget import load_budget

# Production's namespace guard would refuse this pod at admission, a safety finding in every phase
# (guard.limitrange-admits); with the guard off the budget rules alone decide, as these cases mean.
OVER_BUDGET = {"resources": {"limits": {"memory": "2Gi"}}, "budgetGuard": {"enabled": False}}
PRIVILEGED = {"securityContext": {"privileged": True}}


def make_check(tmp_path: Path, overlay: dict, *variables: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    values = tmp_path / "overlay.yaml"
    values.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "check", "ENV=production", f"REPORTS={reports}",
         f"CHECK_ARGS=--values {values} --timing-runs 0", *variables],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    return result, json.loads((reports / "check.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _warn_phase() -> None:
    if load_budget().mode != "warn":
        pytest.skip("these cases are about the warn phase, and the budget's phase enforces")


def test_should_warn_and_pass_an_over_budget_overlay_in_the_warn_phase(tmp_path):
    result, report = make_check(tmp_path, OVER_BUDGET)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["summary"]["mode"] == "warn" and report["summary"]["status"] == "warn"
    assert "WARN — 3.4.4 would fail: " in result.stdout and "PASS" not in result.stdout
    assert {f["severity"] for f in report["findings"] if f["rule"] == "resources.within-budget"} == {"warning"}


def test_should_fail_the_same_overlay_with_mode_enforce(tmp_path):
    result, report = make_check(tmp_path, OVER_BUDGET, "MODE=enforce")
    assert result.returncode == 2  # make's own code for a failed recipe; the check itself exited 1
    assert report["summary"]["exit_code"] == 1 and report["summary"]["status"] == "fail"
    assert "resources.within-budget" in {f["rule"] for f in report["findings"] if f["severity"] == "failure"}


@pytest.mark.parametrize("variables", [(), ("MODE=warn",), ("MODE=enforce",)], ids=["phase", "warn", "enforce"])
def test_should_fail_a_privileged_container_in_every_phase(tmp_path, variables):
    result, report = make_check(tmp_path, PRIVILEGED, *variables)
    assert result.returncode == 2 and report["summary"]["exit_code"] == 1
    failing = {f["rule"] for f in report["findings"] if f["severity"] == "failure"}
    assert "pss.baseline.privileged-containers" in failing, failing


# -- make install never installs after the check exits 1 or 2 ---------------------------------------------------
def stubs(tmp_path: Path, render_env) -> dict[str, str]:
    """Stubs, only to inject conditions: a kubectl whose cluster serves every API the render uses, and a helm
    that runs the real pinned helm for everything but `upgrade`, which it records instead of installing."""
    apis = sorted({str(m.doc["apiVersion"]) for m in render_env("production").manifests})
    kubectl = tmp_path / "kubectl"
    kubectl.write_text("#!/usr/bin/env bash\n# Stub kubectl: a cluster that serves every API the render uses.\n"
                       "case \"$*\" in\n  *'config current-context'*) echo stub-cluster ;;\n"
                       f"  *api-versions*) printf '%s\\n' {' '.join(apis)} ;;\n"
                       # Namespace creation and labels (make install) are recorded with the install.
                       f"  *'create namespace'*) echo \"kubectl $*\" >> {tmp_path / 'calls.log'}; "
                       "printf 'apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: ns\\n' ;;\n"
                       f"  *apply*) cat > /dev/null; echo \"kubectl $*\" >> {tmp_path / 'calls.log'} ;;\n"
                       f"  *'label namespace'*) echo \"kubectl $*\" >> {tmp_path / 'calls.log'} ;;\n"
                       "  *) exit 3 ;;\nesac\n",
                       encoding="utf-8")
    helm = tmp_path / "helm"
    real = os.environ.get("HELM") or str(REPO_ROOT / ".tools" / "helm" / "v4.1.4" / "helm")
    helm.write_text("#!/usr/bin/env bash\n# Stub helm: records `upgrade` (the install) and runs the real helm "
                    "for everything else.\n"
                    f"if [ \"$1\" = upgrade ]; then echo \"$*\" >> {tmp_path / 'installs.log'}; "
                    f"echo \"helm $1\" >> {tmp_path / 'calls.log'}; exit 0; fi\n"
                    f"exec {real} \"$@\"\n", encoding="utf-8")
    for stub in (kubectl, helm):
        stub.chmod(0o755)
    return {"KUBECTL": str(kubectl), "HELM": str(helm)}


def make_install(tmp_path: Path, render_env, overlay: dict, *args: str) -> subprocess.CompletedProcess[str]:
    values = tmp_path / "overlay.yaml"
    values.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    env.update(stubs(tmp_path, render_env))
    return subprocess.run(
        ["make", "--no-print-directory", *args, "install", "ENV=production", f"REPORTS={tmp_path / 'reports'}",
         f"CHECK_ARGS=--values {values} --timing-runs 0"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def installs(tmp_path: Path) -> list[str]:
    log = tmp_path / "installs.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


InstallRun = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def install_once(tmp_path_factory: pytest.TempPathFactory, render_env) -> Callable[..., InstallRun]:
    """`make install` once per overlay and arguments in this module: (its folder with the stubs' logs, the result).
    A run takes three Python processes and two renders; tests that ask different questions of the same run share
    it (make test hands out whole files to its workers, so they share it there too)."""
    runs: dict[str, InstallRun] = {}

    def run(overlay: dict, *args: str) -> InstallRun:
        key = json.dumps([overlay, args], sort_keys=True)
        if key not in runs:
            folder = tmp_path_factory.mktemp("make-install")
            runs[key] = (folder, make_install(folder, render_env, overlay, *args))
        return runs[key]

    return run


def test_should_install_when_the_phase_only_warns(install_once):
    folder, result = install_once(OVER_BUDGET)
    assert result.returncode == 0, result.stderr
    assert [line.split()[:3] for line in installs(folder)] == [["upgrade", "--install", "prompted-forge-mcp"]]


@pytest.mark.parametrize(("overlay", "args"), [
    (OVER_BUDGET, ("MODE=enforce",)),
    (OVER_BUDGET, ("-i", "MODE=enforce")),
    (PRIVILEGED, ()),
    ({"resources": {"limits": {"memory": "1Gb"}}}, ()),
], ids=["exit-1-enforced", "exit-1-under-make-i", "exit-1-safety-rule", "exit-2-bad-input"])
def test_should_never_install_after_a_failed_check(install_once, overlay, args):
    folder, result = install_once(overlay, *args)
    assert installs(folder) == [], result.stdout
    if "-i" not in args:
        assert result.returncode == 2


def test_should_label_the_namespace_for_pod_security_before_installing(install_once):
    from policies.checks.kubeschema import chart_kube_versions

    # The over-budget overlay only warns in this phase, so it installs: the run of the test above.
    folder, result = install_once(OVER_BUDGET)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = (folder / "calls.log").read_text(encoding="utf-8").splitlines()
    lowest = chart_kube_versions()[0]
    assert calls == [
        "kubectl create namespace prompted-forge-mcp --dry-run=client --output=yaml",
        "kubectl apply --filename=-",
        "kubectl label namespace prompted-forge-mcp --overwrite pod-security.kubernetes.io/enforce=restricted "
        f"pod-security.kubernetes.io/enforce-version=v{lowest} pod-security.kubernetes.io/audit=restricted "
        "pod-security.kubernetes.io/audit-version=latest pod-security.kubernetes.io/warn=restricted "
        "pod-security.kubernetes.io/warn-version=latest",
        "helm upgrade",
    ]
    assert lowest == "1.31"


def test_should_not_label_the_namespace_after_a_failed_check(install_once):
    folder, result = install_once(PRIVILEGED)  # the run of never_install[exit-1-safety-rule]
    assert result.returncode == 2, result.stdout + result.stderr
    assert not (folder / "calls.log").exists()
