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
import threading
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
CROWD_WINDOW_SECONDS = 0.01  # how long a request waits to meet another before it is served alone
SCRIPT_TIMEOUT_SECONDS = 60


@dataclass
class Behaviour:
    """What the stand-in service does: per path, a delay, a status and a body."""

    delays: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    metrics_bytes: int = 200
    seen: list[str] = field(default_factory=list)
    # A service that slows under concurrency: a request that arrives while another is in flight waits this long.
    crowded_delay: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Service(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        behaviour = self.behaviour
        with behaviour.lock:
            behaviour.seen.append(self.path)
            behaviour.in_flight += 1
            behaviour.most_in_flight = max(behaviour.most_in_flight, behaviour.in_flight)
            crowded = behaviour.in_flight > 1
        try:
            if behaviour.crowded_delay and not crowded:
                # Stay counted for a moment first: without it, a request served in microseconds is out of flight
                # before the next client's connection is even accepted, so concurrent clients might never meet.
                time.sleep(CROWD_WINDOW_SECONDS)
                with behaviour.lock:
                    crowded = behaviour.in_flight > 1
            time.sleep(behaviour.delays.get(self.path, 0.0) + (behaviour.crowded_delay if crowded else 0.0))
        finally:
            # Out of flight before the answer is written: a single client sends its next request as soon as it
            # reads this one, and must not find the previous request still counted.
            with behaviour.lock:
                behaviour.in_flight -= 1
        self.answer()

    def answer(self) -> None:
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


def run_script(base_url: str, *, metrics: bool = True, load: dict[str, str] | None = None, **limits: int
               ) -> subprocess.CompletedProcess[str]:
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
    env.update(load or {})
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


def load_mode(clients: int, *, seconds: int = 1, max_requests: int = 200, limit_ms: int = TIGHT_MS,
              enforce: bool = False) -> dict[str, str]:
    return {"LOAD_CLIENTS": str(clients), "LOAD_SECONDS": str(seconds), "LOAD_MAX_REQUESTS": str(max_requests),
            "LOAD_P95_MS": str(limit_ms), "LOAD_ENFORCE": "true" if enforce else "false"}


def load_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("load ")]


def test_should_measure_the_p95_under_load_and_pass_a_service_that_keeps_up(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    result = run_script(url, metrics=False, load=load_mode(4, limit_ms=GENEROUS_MS, max_requests=40))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = load_lines(result)
    assert [line.split(" ")[1] for line in lines] == ["endpoint=/healthz", "endpoint=/healthz?readiness=1"]
    assert all(" clients=4 seconds=1 " in line and " errors=0 " in line and line.endswith(" ok") for line in lines)
    assert behaviour.most_in_flight > 1  # the clients really were concurrent


def test_should_warn_but_pass_when_the_service_slows_under_load_before_the_phase_enforces(
    service: tuple[str, Behaviour]
) -> None:
    url, behaviour = service
    behaviour.crowded_delay = SLOW_SECONDS
    result = run_script(url, metrics=False, load=load_mode(4, max_requests=40))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = load_lines(result)
    assert len(lines) == 2 and all(line.endswith(f" limit_ms={TIGHT_MS} WARN") for line in lines), lines
    # The sequential checks, one request at a time, never crowd the service and stay within budget.
    assert all(line.endswith(" ok") for line in result.stdout.splitlines() if line.startswith("endpoint="))
    assert result.stdout.splitlines()[-1] == "budget: all checks passed"


def test_should_exit_1_when_the_service_slows_under_load_and_the_phase_enforces(
    service: tuple[str, Behaviour]
) -> None:
    url, behaviour = service
    behaviour.crowded_delay = SLOW_SECONDS
    result = run_script(url, metrics=False, load=load_mode(4, max_requests=40, enforce=True))
    assert result.returncode == 1
    assert len([line for line in load_lines(result) if line.endswith("FAIL")]) == 2
    assert result.stdout.splitlines()[-1] == "budget: 1 endpoint(s) failed"


def test_should_pass_one_client_against_a_service_that_only_slows_when_crowded(
    service: tuple[str, Behaviour]
) -> None:
    url, behaviour = service
    behaviour.crowded_delay = SLOW_SECONDS
    result = run_script(url, metrics=False, load=load_mode(1, max_requests=20, limit_ms=GENEROUS_MS, enforce=True))
    assert result.returncode == 0, result.stdout + result.stderr
    assert behaviour.most_in_flight == 1


def test_should_stop_the_load_at_the_request_bound(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    result = run_script(url, metrics=False, load=load_mode(3, seconds=60, max_requests=10, limit_ms=GENEROUS_MS))
    assert result.returncode == 0, result.stdout + result.stderr
    sequential = 2 * REQUESTS
    assert len(behaviour.seen) == sequential + 10
    assert sum(int(line.split(" requests=")[1].split(" ")[0]) for line in load_lines(result)) == 10


def test_should_stop_the_load_at_the_deadline(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    behaviour.delays = {"/healthz": 0.05, "/healthz?readiness=1": 0.05}
    started = time.monotonic()
    result = run_script(url, metrics=False, load=load_mode(2, seconds=1, max_requests=999999, limit_ms=GENEROUS_MS))
    assert result.returncode == 0, result.stdout + result.stderr
    # Two clients at >= 50 ms a request fit at most 2 * 1 s / 50 ms = 40 requests before the deadline.
    assert len(behaviour.seen) - 2 * REQUESTS <= 40 + 2
    assert time.monotonic() - started < SCRIPT_TIMEOUT_SECONDS


def test_should_count_errors_under_load_as_over_budget(service: tuple[str, Behaviour]) -> None:
    url, behaviour = service
    result = run_script(url, metrics=False, load=load_mode(2, max_requests=10, limit_ms=GENEROUS_MS, enforce=True))
    assert result.returncode == 0
    behaviour.statuses["/healthz?readiness=1"] = 503
    behaviour.seen.clear()
    result = run_script(url, metrics=False, readiness=GENEROUS_MS,
                        load=load_mode(2, max_requests=10, limit_ms=GENEROUS_MS, enforce=True))
    assert result.returncode == 1
    failing = [line for line in load_lines(result) if line.endswith("FAIL")]
    assert len(failing) == 1 and failing[0].startswith("load endpoint=/healthz?readiness=1 ")
    assert 'last_error="HTTP 503"' in failing[0]


@pytest.mark.parametrize(("name", "value"), [("LOAD_CLIENTS", "-1"), ("LOAD_CLIENTS", "2.5"), ("LOAD_SECONDS", "0"),
                                             ("LOAD_MAX_REQUESTS", "x"), ("LOAD_P95_MS", "")])
def test_should_exit_2_for_a_bad_load_setting_before_calling_the_service(
    service: tuple[str, Behaviour], name: str, value: str
) -> None:
    url, behaviour = service
    load = load_mode(2) | {name: value}
    result = run_script(url, metrics=False, load=load)
    assert result.returncode == 2
    assert name in result.stderr
    assert behaviour.seen == []
