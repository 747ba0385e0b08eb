"""files/budget-test.mjs (the `helm test` budget check) run by the machine's node against a loopback server.

The server answers on 127.0.0.1 only, with a chosen delay and body per path, so
each test decides whether an endpoint is "slow" or a metrics body "too large".
Passing cases use limits far above loopback latency and failing cases delay
far beyond their limit, so no result depends on how busy the machine is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest
from loopback import serve

from policies import CHART_DIR

SCRIPT = CHART_DIR / "files" / "budget-test.mjs"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed; budget-test.mjs runs under Node 20")

REQUESTS = 3
GENEROUS_MS = 4000  # far above loopback latency: a pass never depends on machine load
TIGHT_MS = 50
SLOW_SECONDS = 0.2  # four times TIGHT_MS: a fail never depends on machine load either
SCRIPT_TIMEOUT_SECONDS = 60


@dataclass
class Behaviour:
    """What the stand-in service does: per path, a delay, a status and a body."""

    delays: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    metrics_bytes: int = 200
    seen: list[str] = field(default_factory=list)


class Service(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.behaviour.seen.append(self.path)
        time.sleep(self.behaviour.delays.get(self.path, 0.0))
        body = b"#" * self.behaviour.metrics_bytes if self.path == "/metrics" else b"ok"
        self.send_response(self.behaviour.statuses.get(self.path, 200))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        pass


@pytest.fixture
def service() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    handler = type("Handler", (Service,), {"behaviour": behaviour})
    with serve(handler) as base_url:
        yield base_url, behaviour


def run_script(base_url: str, *, metrics: bool = True, **limits: int) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TARGET_URL": base_url,
        "REQUESTS": str(REQUESTS),
        "LIVENESS_P95_MS": str(limits.get("liveness", GENEROUS_MS)),
        "READINESS_P95_MS": str(limits.get("readiness", GENEROUS_MS)),
        "METRICS_P95_MS": str(limits.get("metrics", GENEROUS_MS)),
        "METRICS_MAX_BYTES": str(limits.get("metrics_bytes", 1024)),
    }
    if metrics:
        env["METRICS_URL"] = f"{base_url}/metrics"
    assert NODE is not None
    return subprocess.run([NODE, str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT_SECONDS, check=False)


def test_should_pass_and_print_the_figures_when_every_endpoint_is_fast(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    result = run_script(url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for endpoint in ("/healthz", "/healthz?readiness=1", "/metrics"):
        assert any(line.startswith(f"endpoint={endpoint} p95_ms=") and line.endswith(" ok") for line in lines)
    assert "endpoint=/metrics bytes=200 limit_bytes=1024 ok" in lines
    assert lines[-1] == "budget: all checks passed"
    assert behaviour.seen.count("/healthz") == REQUESTS


def test_should_exit_1_when_the_readiness_endpoint_is_slow(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    behaviour.delays["/healthz?readiness=1"] = SLOW_SECONDS
    result = run_script(url, readiness=TIGHT_MS)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.endswith("FAIL")]
    assert len(failed) == 1
    assert failed[0].startswith("endpoint=/healthz?readiness=1 p95_ms=")
    assert f"limit_ms={TIGHT_MS}" in failed[0]
    assert result.stdout.splitlines()[-1] == "budget: 1 endpoint(s) failed"


def test_should_exit_1_when_the_liveness_endpoint_is_slow(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    behaviour.delays["/healthz"] = SLOW_SECONDS
    result = run_script(url, liveness=TIGHT_MS)
    assert result.returncode == 1
    assert [line.split(" ")[0] for line in result.stdout.splitlines() if line.endswith("FAIL")] == ["endpoint=/healthz"]


def test_should_exit_1_when_the_metrics_body_is_too_large(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    behaviour.metrics_bytes = 2048
    result = run_script(url, metrics_bytes=1024)
    assert result.returncode == 1
    assert "endpoint=/metrics bytes=2048 limit_bytes=1024 FAIL" in result.stdout.splitlines()


def test_should_exit_1_when_an_endpoint_answers_an_error(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    behaviour.statuses["/healthz?readiness=1"] = 503
    result = run_script(url)
    assert result.returncode == 1
    assert 'endpoint=/healthz?readiness=1 error="HTTP 503"' in result.stdout


def test_should_not_call_metrics_where_the_chart_passes_no_metrics_url(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    result = run_script(url, metrics=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/metrics" not in behaviour.seen


def test_should_exit_2_naming_a_missing_threshold_before_calling_the_service(
    service: tuple[str, Behaviour]
) -> None:
    url, behaviour = service
    env = {"PATH": os.environ.get("PATH", ""), "TARGET_URL": url, "REQUESTS": "3", "LIVENESS_P95_MS": "100"}
    assert NODE is not None
    result = subprocess.run([NODE, str(SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=SCRIPT_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 2
    assert "missing required environment variable READINESS_P95_MS" in result.stderr
    assert behaviour.seen == []
