"""The cluster tests' own machinery, offline: skip reasons, pod timings and the traffic poller.

These run in every `make test` (no cluster needed), so the e2e code is known to
work before it meets a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import serve

from e2e.kube import Poller, created_at, ready_at, seconds_between, started_at, unreachable_reason

POD = {
    "metadata": {"name": "pf-e2e-prompted-forge-mcp-abc-12345", "creationTimestamp": "2025-01-01T10:00:00Z"},
    "status": {
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-01-01T10:00:00Z"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T10:00:12Z"},
        ],
        "containerStatuses": [
            {"name": "prompted-forge-mcp", "state": {"running": {"startedAt": "2025-01-01T10:00:04Z"}}},
        ],
    },
}


def test_should_skip_naming_the_missing_kubeconfig_when_there_is_none(tmp_path: Path) -> None:
    reason = unreachable_reason(None, {"PATH": ""}, home=tmp_path)
    assert reason is not None and reason.startswith("no cluster: ")


def test_should_skip_naming_the_context_when_it_does_not_answer(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n", encoding="utf-8")
    reason = unreachable_reason("absent", {**os.environ, "KUBECONFIG": str(kubeconfig)}, home=tmp_path)
    assert reason is not None
    assert reason.startswith("no cluster: ")
    assert "kubectl is not installed" in reason or "context 'absent'" in reason


def test_should_time_a_pod_from_container_start_and_from_creation_to_ready() -> None:
    assert seconds_between(started_at(POD), ready_at(POD)) == 8.0
    assert seconds_between(created_at(POD), ready_at(POD)) == 12.0


def test_should_have_no_ready_time_for_a_pod_that_is_not_ready() -> None:
    not_ready = {**POD, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert ready_at(not_ready) is None
    assert started_at(not_ready) is None
    assert seconds_between(started_at(not_ready), ready_at(not_ready)) is None


class Flaky(BaseHTTPRequestHandler):
    """200 except for the requests numbered in `failing`."""

    failing: set[int] = set()
    count = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).count += 1
        status = 503 if type(self).count in self.failing else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        pass


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, type[Flaky]]]:
    handler = type("Handler", (Flaky,), {"failing": set(), "count": 0})
    with serve(handler) as base_url:
        yield f"{base_url}/healthz", handler


def test_should_count_every_request_as_a_success_when_the_service_stays_up(
    flaky_server: tuple[str, type[Flaky]]
) -> None:
    url, _ = flaky_server
    poller = Poller(url, interval=0.0, max_requests=10)
    poller.start()
    assert poller.wait_for_successes(10, timeout=30)
    poller.stop()
    assert (poller.successes, poller.failures) == (10, [])


def test_should_record_each_failed_request_during_a_rollout(flaky_server: tuple[str, type[Flaky]]) -> None:
    url, handler = flaky_server
    handler.failing = {3, 4}
    poller = Poller(url, interval=0.0, max_requests=6)
    poller.start()
    poller.wait_for_successes(4, timeout=30)
    poller.stop()
    assert poller.requests == 6
    assert len(poller.failures) == 2
    assert all("503" in failure for failure in poller.failures)
