"""Synthetic series for the chart's alerts, computed from the budget's thresholds, as promtool test groups.

Each alert has a model that turns a *level* (what its expression evaluates to: percent of the CPU
request, percent of the memory limit, probe P95 in seconds, 1 for not ready) into the raw series the
exporters would publish: cAdvisor counters and gauges, kube-state-metrics requests, limits and pod
conditions, the kubelet's probe-duration histogram. Levels come from policies/budget.yaml (a threshold
plus or minus half a step), never from the rendered rule, so a rendered threshold that drifts from the
budget fails the tests.

Intervals (the README says why): one sample per SCRAPE_SECONDS and one evaluation per
EVALUATION_SECONDS, the 15 s of Prometheus' example configuration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

from policies.core.quantity import parse_cpu, parse_memory
from policies.inputs.budget import Budget
from policies.render.manifests import ManifestIndex

SCRAPE_SECONDS = 15
EVALUATION_SECONDS = 15
# Before the phase under test: long enough for every 5m rate window to hold only the warm-up.
WARM_UP_SECONDS = 600
TAIL_SECONDS = 600
# The kubelet's prober_probe_duration_seconds declares no buckets, so it has Prometheus' defaults.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BUCKET_LABELS = (*(f"{bound:g}" for bound in DEFAULT_BUCKETS), "+Inf")
# A probe every 10 s (the chart's probe period), as a rate.
PROBES_PER_SECOND = 0.1
SEVERITY = "warning"
SI_PREFIXES_DOWN = ("m", "u", "n", "p", "f", "a", "z", "y")
SI_PREFIXES_UP = ("k", "M", "G", "T", "P", "E", "Z", "Y")


@dataclass(frozen=True)
class Target:
    """Whose series: a pod's namespace, name and container (kube-state-metrics and cAdvisor labels)."""

    namespace: str
    pod: str
    container: str


@dataclass(frozen=True)
class Phase:
    seconds: int
    level: float | None  # None: no series at all (the pod does not exist yet)


def chart_pods(manifests: ManifestIndex) -> tuple[Target, Target, Target]:
    """A pod of the release, a pod of another release of the same chart in the same namespace, and a pod
    of the same release in another namespace, named the way a Deployment's ReplicaSet names its pods."""
    deployment = manifests.get("Deployment")
    fullname = deployment.name
    namespace = deployment.doc["metadata"]["namespace"]
    container = deployment.doc["spec"]["template"]["spec"]["containers"][0]["name"]
    ours = Target(namespace, f"{fullname}-5d8f7c9b6-x2k9p", container)
    # A release whose name starts with ours (`<release>-canary`) is the nearest miss for a pod regex.
    other_release = replace(ours, pod=f"{fullname}-canary-6f4b8d7c5-q8w2n")
    other_namespace = replace(ours, namespace=f"{namespace}-staging")
    return ours, other_release, other_namespace


def levels_per_sample(profile: list[Phase], scrape_seconds: int = SCRAPE_SECONDS) -> list[float | None]:
    levels: list[float | None] = []
    for phase in profile:
        assert phase.seconds % scrape_seconds == 0, f"phase of {phase.seconds}s is not whole scrapes"
        levels += [phase.level] * (phase.seconds // scrape_seconds)
    return levels


def profile_seconds(profile: list[Phase]) -> int:
    return sum(phase.seconds for phase in profile)


def _number(value: float) -> str:
    return repr(float(value))


def gauge_values(levels: list[float | None], value_of: Callable[[float], float]) -> str:
    return " ".join("_" if level is None else _number(value_of(level)) for level in levels)


def counter_values(levels: list[float | None], rate_of: Callable[[float], float],
                   scrape_seconds: int = SCRAPE_SECONDS) -> str:
    """A counter from 0 whose rate over each scrape interval is rate_of(that sample's level)."""
    total, values = 0.0, []
    for index, level in enumerate(levels):
        if level is None:
            values.append("_")
            continue
        if index and levels[index - 1] is not None:
            total += rate_of(level) * scrape_seconds
        values.append(_number(total))
    return " ".join(values)


def selector(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def humanize(value: float) -> str:
    """Prometheus' `humanize` template function (SI prefixes, four significant digits)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return f"{value:.4g}"
    prefix = ""
    if abs(value) >= 1:
        for candidate in SI_PREFIXES_UP:
            if abs(value) < 1000:
                break
            prefix, value = candidate, value / 1000
    else:
        for candidate in SI_PREFIXES_DOWN:
            if abs(value) >= 1:
                break
            prefix, value = candidate, value * 1000
    return f"{value:.4g}{prefix}"


def humanize_duration(seconds: float) -> str:
    """Prometheus' `humanizeDuration` for durations under a minute (all the latency alert can reach)."""
    assert abs(seconds) < 60, "only sub-minute durations are modelled"
    if abs(seconds) >= 1 or seconds == 0:
        return f"{seconds:.4g}s"
    return humanize(seconds) + "s"


def cumulative_fractions(p95_seconds: float) -> dict[str, float]:
    """Cumulative bucket fractions whose interpolated 0.95-quantile is p95_seconds.

    Most probes land in the fastest bucket; the rank 0.95 falls inside the bucket (lo, hi] holding
    p95_seconds, at the fraction r = (p95 - lo) / (hi - lo) of it, which histogram_quantile interpolates
    back to p95_seconds. Half the largest mass that fits keeps every fraction well inside [0, 1].
    """
    bounds = (0.0, *DEFAULT_BUCKETS)
    index = next(i for i in range(1, len(bounds)) if bounds[i - 1] < p95_seconds < bounds[i])
    low, high = bounds[index - 1], bounds[index]
    assert low > 0, "a P95 inside the first bucket needs a different shape"
    position = (p95_seconds - low) / (high - low)
    in_bucket = 0.5 * min(0.05 / (1 - position), 0.95 / position)
    below = 0.95 - position * in_bucket
    fractions = [below if bound <= low else below + in_bucket if bound == high else 1.0 for bound in DEFAULT_BUCKETS]
    return dict(zip(BUCKET_LABELS, [*fractions, 1.0], strict=True))


class SeriesOf(Protocol):
    """The raw series of a target whose expression takes each level in turn, one sample per scrape."""

    def __call__(self, target: Target, levels: list[float | None],
                 scrape_seconds: int = SCRAPE_SECONDS) -> list[dict[str, str]]: ...


@dataclass(frozen=True)
class AlertModel:
    """One alert: its budget threshold and step, its `for:`, and how a level becomes series and an alert."""

    name: str
    threshold: float
    step: float
    for_seconds: int
    for_text: str
    series: SeriesOf
    labels: Callable[[Target], dict[str, str]]
    annotations: Callable[[Target, float], dict[str, str]]

    @property
    def just_above(self) -> float:
        return self.threshold + self.step / 2

    @property
    def just_below(self) -> float:
        return self.threshold - self.step / 2


def _number_text(value: Any) -> str:
    """A budget number as helm's %v prints it (70, 0.5, 1e+06 is never a threshold here)."""
    return format(Decimal(str(value)).normalize(), "f")


def cpu_model(budget: Budget, for_seconds: int, for_text: str) -> AlertModel:
    percent = budget["alerts"]["cpuOfRequestsPercent"]
    request_cores = float(parse_cpu(budget["environments"]["production"]["resources"]["requests"]["cpu"]))

    def series(target: Target, levels: list[float | None],
               scrape_seconds: int = SCRAPE_SECONDS) -> list[dict[str, str]]:
        pod = {"namespace": target.namespace, "pod": target.pod, "container": target.container}
        return [
            {"series": selector("container_cpu_usage_seconds_total",
                                {**pod, "job": "kubelet", "metrics_path": "/metrics/cadvisor"}),
             "values": counter_values(levels, lambda level: request_cores * level / 100, scrape_seconds)},
            {"series": selector("kube_pod_container_resource_requests",
                                {**pod, "resource": "cpu", "unit": "core", "job": "kube-state-metrics"}),
             "values": gauge_values(levels, lambda _: request_cores)},
        ]

    return AlertModel(
        "PromptedForgeMCPCPUAboveRequests", float(percent), 1.0, for_seconds, for_text, series,
        lambda target: {"namespace": target.namespace, "pod": target.pod, "container": target.container,
                        "severity": SEVERITY},
        lambda target, level: {
            "summary": f"CPU usage above {_number_text(percent)}% of requests",
            "description": f"Pod {target.pod} has used {humanize(level)}% of its CPU request for {for_text} "
                           f"(budget: {_number_text(percent)}%).",
        },
    )


def memory_model(budget: Budget, for_seconds: int, for_text: str) -> AlertModel:
    percent = budget["alerts"]["memoryOfLimitsPercent"]
    limit_bytes = float(parse_memory(budget["environments"]["production"]["resources"]["limits"]["memory"]))

    def series(target: Target, levels: list[float | None],
               scrape_seconds: int = SCRAPE_SECONDS) -> list[dict[str, str]]:
        pod = {"namespace": target.namespace, "pod": target.pod, "container": target.container}
        return [
            {"series": selector("container_memory_working_set_bytes",
                                {**pod, "job": "kubelet", "metrics_path": "/metrics/cadvisor"}),
             "values": gauge_values(levels, lambda level: limit_bytes * level / 100)},
            {"series": selector("kube_pod_container_resource_limits",
                                {**pod, "resource": "memory", "unit": "byte", "job": "kube-state-metrics"}),
             "values": gauge_values(levels, lambda _: limit_bytes)},
        ]

    return AlertModel(
        "PromptedForgeMCPMemoryAboveLimits", float(percent), 1.0, for_seconds, for_text, series,
        lambda target: {"namespace": target.namespace, "pod": target.pod, "container": target.container,
                        "severity": SEVERITY},
        lambda target, level: {
            "summary": f"Memory usage above {_number_text(percent)}% of limits",
            "description": f"Pod {target.pod} has used {humanize(level)}% of its memory limit for {for_text} "
                           f"(budget: {_number_text(percent)}%).",
        },
    )


def health_check_model(budget: Budget, for_seconds: int, for_text: str) -> AlertModel:
    milliseconds = budget["alerts"]["healthCheckP95Milliseconds"]
    fast = dict.fromkeys(BUCKET_LABELS, 1.0)  # every liveness probe answered within the first bucket

    def series(target: Target, levels: list[float | None],
               scrape_seconds: int = SCRAPE_SECONDS) -> list[dict[str, str]]:
        # The readiness probe at the level under test; the liveness probe stays fast throughout.
        pod = {"namespace": target.namespace, "pod": target.pod, "container": target.container}
        found = []
        for probe_type in ("Liveness", "Readiness"):
            for bound in fast:
                labels = {**pod, "probe_type": probe_type, "le": bound, "job": "kubelet",
                          "metrics_path": "/metrics/probes"}

                def rate(level: float, bound: str = bound, probe_type: str = probe_type) -> float:
                    shares = cumulative_fractions(level) if probe_type == "Readiness" else fast
                    return shares[bound] * PROBES_PER_SECOND

                found.append({"series": selector("prober_probe_duration_seconds_bucket", labels),
                              "values": counter_values(levels, rate, scrape_seconds)})
        return found

    return AlertModel(
        "PromptedForgeMCPHealthCheckSlow", milliseconds / 1000, 0.001, for_seconds, for_text, series,
        lambda target: {"namespace": target.namespace, "probe_type": "Readiness", "severity": SEVERITY},
        lambda target, level: {
            "summary": f"Health check P95 above {_number_text(milliseconds)}ms",
            "description": f"Readiness probe P95 latency is {humanize_duration(level)} "
                           f"(budget: {_number_text(milliseconds)}ms).",
        },
    )


def readiness_model(budget: Budget) -> AlertModel:
    """Level 1: the pod's Ready condition is false; 0: it is true."""
    seconds = budget["regression"]["readinessAlertSeconds"]

    def labels_of(target: Target) -> dict[str, str]:
        return {"namespace": target.namespace, "pod": target.pod, "uid": f"uid-{target.pod}",
                "job": "kube-state-metrics"}

    def series(target: Target, levels: list[float | None],
               scrape_seconds: int = SCRAPE_SECONDS) -> list[dict[str, str]]:
        return [
            {"series": selector("kube_pod_status_ready", {**labels_of(target), "condition": condition}),
             "values": gauge_values(levels, value_of)}
            for condition, value_of in (("false", lambda level: level), ("true", lambda level: 1 - level))
        ]

    return AlertModel(
        "PromptedForgeMCPPodNotReady", 1.0, 1.0, int(seconds), f"{seconds}s", series,
        lambda target: {**labels_of(target), "condition": "false", "severity": SEVERITY},
        lambda target, _: {
            "summary": f"Pod not ready for more than {_number_text(seconds)}s",
            "description": f"Pod {target.pod} has not been ready for more than {_number_text(seconds)}s "
                           f"(budget: readiness within {_number_text(seconds)}s).",
        },
    )


def input_series(model: AlertModel, profiles: dict[Target, list[Phase]], scrape_seconds: int) -> list[dict[str, str]]:
    return [item for target, profile in profiles.items()
            for item in model.series(target, levels_per_sample(profile, scrape_seconds), scrape_seconds)]


def expect_firing(model: AlertModel, at_seconds: int, target: Target, level: float) -> dict[str, Any]:
    return {"eval_time": f"{at_seconds}s", "alertname": model.name,
            "exp_alerts": [{"exp_labels": model.labels(target), "exp_annotations": model.annotations(target, level)}]}


def expect_silent(model: AlertModel, at_seconds: int) -> dict[str, Any]:
    return {"eval_time": f"{at_seconds}s", "alertname": model.name, "exp_alerts": []}


def expect_never_firing(model: AlertModel, seconds: int, evaluation_seconds: int) -> list[dict[str, Any]]:
    """Silent at every evaluation of the whole timeline: the alert's state changes only at evaluations."""
    return [expect_silent(model, at) for at in range(0, seconds + 1, evaluation_seconds)]


def promtool_test_group(name: str, model: AlertModel, profiles: dict[Target, list[Phase]],
                        checks: list[dict[str, Any]], scrape_seconds: int = SCRAPE_SECONDS) -> dict[str, Any]:
    return {"name": name, "interval": f"{scrape_seconds}s",
            "input_series": input_series(model, profiles, scrape_seconds), "alert_rule_test": checks}
