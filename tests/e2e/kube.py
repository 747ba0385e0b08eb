"""What the cluster tests need from a cluster: kubectl and helm on one context, every call bounded in time.

Also the pieces of a rollout test: timestamps read from pod status, a loopback
API proxy, and a poller that calls the Service until told to stop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import select
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies import CHART_DIR
from policies.render.helm import Helm

REACHABILITY_TIMEOUT_SECONDS = 10
CALL_TIMEOUT_SECONDS = 120
CHART_NAME = CHART_DIR.name
RELEASE = "pf-e2e"
INSTALL_TIMEOUT = "5m"
HELM_CALL_SECONDS = 420.0


class ClusterError(Exception):
    """A kubectl call failed or hung; carries the command and its stderr."""


def context_flag(context: str | None, flag: str = "--context") -> list[str]:
    return [flag, context] if context else []


def unreachable_reason(context: str | None, environ: Mapping[str, str], home: Path) -> str | None:
    """Why no cluster can be used (a skip reason), or None when one answers within a few seconds."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return "no cluster: kubectl is not installed"
    kubeconfig = environ.get("KUBECONFIG")
    if not kubeconfig and context is None and not (home / ".kube" / "config").exists():
        return "no cluster: KUBECONFIG is not set, ~/.kube/config does not exist and no --kube-context was given"
    command = [kubectl, "version", "--output=json", f"--request-timeout={REACHABILITY_TIMEOUT_SECONDS}s",
               *context_flag(context)]
    where = f"context {context!r}" if context else f"the current context of {kubeconfig or home / '.kube/config'}"
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=REACHABILITY_TIMEOUT_SECONDS + 5,
                                check=False)
    except subprocess.TimeoutExpired:
        return f"no cluster: {where} did not answer `kubectl version` within {REACHABILITY_TIMEOUT_SECONDS} s"
    if result.returncode != 0 or "serverVersion" not in result.stdout:
        first_line = (result.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no cluster: {where} is not reachable ({first_line})"
    return None


@dataclass(frozen=True)
class Cluster:
    context: str | None
    helm: Helm

    def kubectl(self, *args: str, timeout: float = CALL_TIMEOUT_SECONDS) -> str:
        command = ["kubectl", *context_flag(self.context), *args]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"`{' '.join(command)}` did not finish within {timeout:g} s") from None
        if result.returncode != 0:
            raise ClusterError(f"`{' '.join(command)}` failed (exit {result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def kubectl_json(self, *args: str) -> dict[str, Any]:
        return json.loads(self.kubectl(*args, "--output=json"))

    def helm_run(self, *args: str, timeout: float = CALL_TIMEOUT_SECONDS) -> str:
        return self.helm.run(*args, *context_flag(self.context, "--kube-context"), timeout=timeout).stdout

    def serves(self, api_version: str) -> bool:
        return api_version in self.kubectl("api-versions").split()


@dataclass
class Release:
    """One environment installed into its own temporary namespace."""

    cluster: Cluster
    environment: str
    namespace: str
    values: tuple[Path, ...]
    extra_args: tuple[str, ...] = ()
    name: str = RELEASE

    @property
    def fullname(self) -> str:
        return self.name if CHART_NAME in self.name else f"{self.name}-{CHART_NAME}"

    @property
    def selector(self) -> str:
        return f"app.kubernetes.io/name={CHART_NAME},app.kubernetes.io/instance={self.name}"

    def helm_args(self) -> list[str]:
        args = [self.name, str(CHART_DIR), "--namespace", self.namespace, "--wait", "--timeout", INSTALL_TIMEOUT]
        for path in self.values:
            args += ["--values", str(path)]
        return [*args, *self.extra_args]

    def install(self) -> None:
        self.cluster.helm_run("install", *self.helm_args(), timeout=HELM_CALL_SECONDS)

    def upgrade(self, *args: str) -> None:
        rollback = "--atomic" if self.cluster.helm.version < (4, 0, 0) else "--rollback-on-failure"
        self.cluster.helm_run("upgrade", *self.helm_args(), rollback, *args, timeout=HELM_CALL_SECONDS)

    def uninstall(self) -> None:
        self.cluster.helm_run("uninstall", self.name, "--namespace", self.namespace, "--wait",
                              "--timeout", INSTALL_TIMEOUT, timeout=HELM_CALL_SECONDS)

    def is_installed(self) -> bool:
        listed = self.cluster.helm_run("list", "--namespace", self.namespace, "--short")
        return self.name in listed.split()

    def pods(self) -> list[dict]:
        items = self.cluster.kubectl_json("get", "pods", "--namespace", self.namespace, "-l", self.selector)
        return items.get("items") or []


def timestamp(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def created_at(pod: dict[str, Any]) -> dt.datetime | None:
    return timestamp(pod["metadata"].get("creationTimestamp"))


def ready_at(pod: dict[str, Any]) -> dt.datetime | None:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition["type"] == "Ready" and condition["status"] == "True":
            return timestamp(condition.get("lastTransitionTime"))
    return None


def started_at(pod: dict[str, Any], container: str = CHART_NAME) -> dt.datetime | None:
    """When the app container last started running (after any image pull)."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status["name"] == container:
            return timestamp((status.get("state") or {}).get("running", {}).get("startedAt"))
    return None


def seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


@contextlib.contextmanager
def api_proxy(cluster: Cluster, start_timeout: float = 30.0) -> Iterator[str]:
    """`kubectl proxy` on a free loopback port; yields its base URL and stops it afterwards."""
    command = ["kubectl", *context_flag(cluster.context), "proxy", "--port=0", "--address=127.0.0.1"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], start_timeout)
        line = proc.stdout.readline() if ready else ""
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not match:
            raise ClusterError(f"`{' '.join(command)}` did not start within {start_timeout:g} s: {line.strip()!r}")
        yield f"http://127.0.0.1:{match[1]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class Poller:
    """Calls a URL every `interval` seconds from a thread until stopped, bounded in time and count."""

    url: str
    interval: float = 0.1
    request_timeout: float = 5.0
    max_seconds: float = 900.0
    max_requests: int = 20_000
    successes: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.request_timeout + 5)

    @property
    def requests(self) -> int:
        return self.successes + len(self.failures)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline and self.requests < self.max_requests:
            at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
            try:
                with urllib.request.urlopen(self.url, timeout=self.request_timeout) as response:
                    response.read()
                    if response.status == 200:
                        self.successes += 1
                    else:
                        self.failures.append(f"{at}: HTTP {response.status}")
            except (urllib.error.URLError, OSError) as exc:
                self.failures.append(f"{at}: {exc}")
            self._stop.wait(self.interval)

    def wait_for_successes(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.successes < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.successes >= count
