"""Before `make install`, `make diff` and `make uninstall`: does the cluster answer, and does it
serve every API the environment's render uses?

One bounded `kubectl api-versions` call answers both. When the cluster does not answer this
prints one line of its own, `error: no cluster reachable (context …): …`, never kubectl's raw
log lines, and exits 2 before any long work. With --env it renders the environment (helm
template, offline) and stops with one message when an object needs an API the cluster lacks:
the prometheus-operator CRDs for the ServiceMonitor and the PrometheusRule, naming the CRDs to
install or the value to switch off. A CRD missing at install time would otherwise fail late,
after the whole check, with helm's "no matches for kind".

Usage: python scripts/cluster_preflight.py [--env ENV] [--kube-context CTX] [--timeout SECONDS]
Exit codes: 0 ready, 2 no cluster, a missing API or bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.core.errors import InputError  # noqa: E402
from policies.render.helmcalls import values_file_for  # noqa: E402
from policies.render.manifests import Manifest  # noqa: E402
from policies.render.render import render_environment  # noqa: E402

DEFAULT_TIMEOUT_SECONDS = 5.0
# klog's prefix (E1127 17:48:37.056737 9811 memcache.go:265] ...): kubectl's log lines, not its answer.
KLOG_LINE = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ \S+:\d+\] ")
# What to tell the user for the objects whose API is a CRD of the prometheus-operator:
# the value that switches the object off, by kind.
SWITCHES = {
    "ServiceMonitor": "metrics.serviceMonitor.enabled",
    "PrometheusRule": "monitoring.prometheusRule.enabled",
}


class PreflightError(Exception):
    """The one line to print; the target stops with exit code 2."""


@dataclass(frozen=True)
class Kubectl:
    binary: str
    context: str | None
    timeout: float

    def command(self, *args: str) -> list[str]:
        context = ["--context", self.context] if self.context else []
        return [self.binary, *context, *args]

    def context_name(self) -> str:
        if self.context:
            return self.context
        try:
            result = subprocess.run(self.command("config", "current-context"), capture_output=True, text=True,
                                    timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return result.stdout.strip() or "none"

    def served_api_versions(self) -> frozenset[str]:
        """The cluster's API versions; PreflightError when it does not answer within the timeout."""
        command = self.command("api-versions", f"--request-timeout={self.timeout:g}s")
        try:
            # kubectl's own timeout bounds each request; this bounds the whole call (discovery retries).
            result = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout * 2,
                                    stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise PreflightError(f"error: kubectl not found ({self.binary}); run `make setup` or set KUBECTL") from None
        except subprocess.TimeoutExpired:
            raise self.unreachable(f"no answer within {self.timeout * 2:g} s") from None
        if result.returncode != 0:
            raise self.unreachable(kubectl_reason(result.stderr))
        return frozenset(line.strip() for line in result.stdout.splitlines() if line.strip())

    def unreachable(self, reason: str) -> PreflightError:
        return PreflightError(f"error: no cluster reachable (context {self.context_name()}): {reason}")


def kubectl_reason(stderr: str) -> str:
    """kubectl's own error line, without its klog lines and its `error: ` prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not KLOG_LINE.match(line)]
    reason = lines[-1] if lines else "kubectl failed without a message"
    return reason.removeprefix("error: ")


def api_version(manifest: Manifest) -> str:
    return str(manifest.doc.get("apiVersion", ""))


def missing_api_message(environment: str, manifests: Iterable[Manifest], served: frozenset[str]) -> str | None:
    """One message for every rendered object whose apiVersion the cluster does not serve, or None."""
    missing = [m for m in manifests if api_version(m) not in served]
    if not missing:
        return None
    apis = sorted({api_version(m) for m in missing})
    objects = ", ".join(f"{m.ref}" + (f" ({SWITCHES[m.kind]})" if m.kind in SWITCHES else "") for m in missing)
    message = (f"error: the cluster does not serve {', '.join(apis)}, needed by {objects} "
               f"in {values_file_for(environment).name}")
    crds = sorted({f"{m.kind.lower()}s.{api_version(m).split('/')[0]}" for m in missing if m.kind in SWITCHES})
    switches = sorted({SWITCHES[m.kind] for m in missing if m.kind in SWITCHES})
    if crds and len(crds) == len(missing):
        return (f"{message}: install the prometheus-operator CRDs ({', '.join(crds)}) "
                f"or set {' and '.join(switches)} to false")
    return f"{message}: install what serves {', '.join(apis)} first"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", help="also check the APIs this environment's render needs")
    parser.add_argument("--kube-context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                        help="seconds the cluster has to answer")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kubectl = Kubectl(os.environ.get("KUBECTL") or "kubectl", args.kube_context, args.timeout)
    try:
        served = kubectl.served_api_versions()
        if args.env:
            render = render_environment(args.env)
            message = missing_api_message(args.env, render.manifests, served)
            if message:
                raise PreflightError(message)
    except PreflightError as exc:
        print(exc, file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
