"""`make install`, `make diff` and `make uninstall` ask the cluster first and stop early and clearly.

No cluster exists here. "No cluster" is the real pinned kubectl pointed at a loopback port that
refuses connections, or at a loopback socket that accepts and never answers. "A cluster without
the prometheus-operator CRDs" is a stub kubectl, used only to inject that condition: it answers
`api-versions` with what the render needs minus monitoring.coreos.com/v1.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from policies import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import cluster_preflight  # noqa: E402

KUBECTL = REPO_ROOT / ".tools" / "kubectl" / "v1.34.5" / "kubectl"
CONTEXT = "preflight-test"
MONITORING = "monitoring.coreos.com/v1"
PROMETHEUS_RULE_MESSAGE = (
    "error: the cluster does not serve monitoring.coreos.com/v1, needed by PrometheusRule/prompted-forge-mcp "
    "(monitoring.prometheusRule.enabled) in values-production.yaml: install the prometheus-operator CRDs "
    "(prometheusrules.monitoring.coreos.com) or set monitoring.prometheusRule.enabled to false"
)
SERVICE_MONITOR_MESSAGE = (
    "error: the cluster does not serve monitoring.coreos.com/v1, needed by ServiceMonitor/prompted-forge-mcp "
    "(metrics.serviceMonitor.enabled) in values-development.yaml: install the prometheus-operator CRDs "
    "(servicemonitors.monitoring.coreos.com) or set metrics.serviceMonitor.enabled to false"
)

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason=f"no pinned kubectl at {KUBECTL}; run `make setup`")


def make(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def kubeconfig(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: loopback, cluster: {{server: 'https://127.0.0.1:{port}', "
        "insecure-skip-tls-verify: true}}]\n"
        "users: [{name: nobody, user: {token: none}}]\n"
        f"contexts: [{{name: {CONTEXT}, context: {{cluster: loopback, user: nobody}}}}]\n"
        f"current-context: {CONTEXT}\n",
        encoding="utf-8",
    )
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose listener completes the TCP handshake and then says nothing."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def environment(**overrides: str) -> dict[str, str]:
    # As a user's shell runs it: not inside `make test`'s make (MAKELEVEL would make it `make[1]`).
    dropped = {"KUBECTL", "KUBECONFIG", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    return {**env, **overrides}


def stub_kubectl(tmp_path: Path, served: list[str]) -> Path:
    """Stub, only to inject a condition: a cluster that answers but serves just `served`."""
    stub = tmp_path / "kubectl"
    stub.write_text(
        "#!/usr/bin/env bash\n"
        "# Stub kubectl: injects a cluster without the prometheus-operator CRDs.\n"
        f'echo "$*" >> {shlex.quote(str(tmp_path / "calls.log"))}\n'
        'case "$*" in\n'
        "  *'config current-context'*) echo stub-cluster ;;\n"
        f"  *api-versions*) printf '%s\\n' {' '.join(shlex.quote(api) for api in served)} ;;\n"
        "  *) echo \"stub kubectl: unexpected call: $*\" >&2; exit 3 ;;\n"
        "esac\n",
        encoding="utf-8",
    )
    stub.chmod(0o755)
    return stub


@pytest.fixture
def served_without_monitoring(render_env) -> list[str]:
    """Every API the environments render, less monitoring.coreos.com/v1."""
    apis = {str(m.doc["apiVersion"]) for env in ("development", "staging", "production")
            for m in render_env(env).manifests}
    return sorted(apis - {MONITORING})


@pytest.mark.parametrize("target", ["diff", "uninstall", "install"])
def test_should_print_one_line_and_exit_2_when_no_cluster_answers(target: str, tmp_path: Path):
    env = environment(KUBECONFIG=str(kubeconfig(tmp_path, closed_port())))
    started = time.monotonic()
    result = make(target, "ENV=production", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: no cluster reachable (context {CONTEXT}): ")
    assert "connection refused" in lines[0]
    # make's own line after ours, and nothing else.
    assert len(lines) == 2
    assert re.fullmatch(r"make: \*\*\* \[Makefile:\d+: cluster-(reachable|ready)\] Error 2", lines[1])
    assert result.stdout == ""
    assert elapsed < 15


def test_should_give_up_on_a_cluster_that_never_answers_within_the_timeout(tmp_path: Path, silent_port: int):
    env = environment(KUBECONFIG=str(kubeconfig(tmp_path, silent_port)))
    started = time.monotonic()
    result = make("diff", "ENV=production", "CLUSTER_TIMEOUT=1", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(f"error: no cluster reachable (context {CONTEXT}): ")
    assert not any(cluster_preflight.KLOG_LINE.match(line) for line in result.stderr.splitlines())
    assert elapsed < 15


def test_should_stop_install_before_the_check_when_the_monitoring_api_is_missing(
    tmp_path: Path, served_without_monitoring: list[str]
):
    stub = stub_kubectl(tmp_path, served_without_monitoring)
    result = make("install", "ENV=production", f"KUBECTL={stub}", env=environment())
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == PROMETHEUS_RULE_MESSAGE
    assert result.stdout == ""  # neither `make check` nor helm ran
    assert (tmp_path / "calls.log").read_text().splitlines() == ["api-versions --request-timeout=5s"]


def test_should_name_the_service_monitor_in_development(tmp_path: Path, served_without_monitoring, monkeypatch,
                                                        capsys):
    monkeypatch.setenv("KUBECTL", str(stub_kubectl(tmp_path, served_without_monitoring)))
    assert cluster_preflight.main(["--env", "development"]) == 2
    assert capsys.readouterr().err.splitlines() == [SERVICE_MONITOR_MESSAGE]


@pytest.mark.parametrize("environment_name", ["development", "staging", "production"])
def test_should_pass_when_the_cluster_serves_every_api_the_render_uses(
    environment_name: str, tmp_path: Path, served_without_monitoring, monkeypatch, capsys
):
    monkeypatch.setenv("KUBECTL", str(stub_kubectl(tmp_path, [*served_without_monitoring, MONITORING])))
    assert cluster_preflight.main(["--env", environment_name]) == 0
    assert capsys.readouterr().err == ""


def test_should_pass_staging_without_the_monitoring_api(tmp_path: Path, served_without_monitoring, monkeypatch):
    # Staging enables neither object, so it needs no prometheus-operator.
    monkeypatch.setenv("KUBECTL", str(stub_kubectl(tmp_path, served_without_monitoring)))
    assert cluster_preflight.main(["--env", "staging"]) == 0


def test_should_keep_kubectl_s_own_error_line_without_its_log_lines():
    stderr = (
        'E1127 17:48:37.056737    9811 memcache.go:265] "Unhandled Error" err="couldn\'t get current server '
        'API group list: dial tcp 127.0.0.1:8080: connect: connection refused"\n'
        "error: couldn't get available api versions from server: dial tcp 127.0.0.1:8080: connect: "
        "connection refused\n"
    )
    assert cluster_preflight.kubectl_reason(stderr) == (
        "couldn't get available api versions from server: dial tcp 127.0.0.1:8080: connect: connection refused"
    )


def test_should_say_when_kubectl_is_missing(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("KUBECTL", str(tmp_path / "no-kubectl"))
    assert cluster_preflight.main([]) == 2
    missing = tmp_path / "no-kubectl"
    assert capsys.readouterr().err == f"error: kubectl not found ({missing}); run `make setup` or set KUBECTL\n"
