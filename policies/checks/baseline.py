"""Baselines: the measured figures and rendered totals of a known-good run, and regressions against them.

The baseline is committed at policies/baseline.json and refreshed with
`make baseline` on main (with MEASUREMENTS=<CI measurements file> once CI
produces one). Committed rather than fetched, so a fresh clone can compare
against it and a refresh shows up in review as a diff.

A later run is compared with deepdiff. A figure regresses when it grows by
more than the budget's growth percentage *and* by at least the budget's
minimum absolute change (smaller moves are noise). Rendered totals have no
threshold: any change is reported, as a warning, so a reviewer sees it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from policies import PACKAGE_DIR
from policies.checks.rules._pods import SERVICE_KINDS, owning_hpa
from policies.core.atomic import write_text_atomic
from policies.core.docpath import dig, mapping_at
from policies.core.errors import InputError
from policies.core.findings import Finding, Severity, failure, warning
from policies.core.outcome import Measurement
from policies.core.quantity import QuantityError, format_cpu, format_memory, parse_resource
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import Budget
from policies.inputs.yamlsource import read_input_text
from policies.render.helmtimes import Timing
from policies.render.manifests import Manifest, ManifestIndex

BASELINE_FILE = PACKAGE_DIR / "baseline.json"
VERSION = 1
RULES = declare(
    Rule("regression.image-size", "the image grew by more than regression.imageSizeGrowthPercent since the baseline",
         spec="Monitoring and Alerting / Performance Regression Detection"),
    Rule("regression.build-time", "docker build (or build + push) got slower by more than "
                                  "regression.buildTimeGrowthPercent",
         spec="Monitoring and Alerting / Performance Regression Detection"),
    Rule("regression.stage-time", "another pipeline stage or a helm operation got slower by more than "
                                  "regression.buildTimeGrowthPercent",
         spec="Monitoring and Alerting / Performance Regression Detection"),
    Rule("regression.rendered-totals", "objects per kind or summed requests/limits changed since the baseline",
         control="policies/baseline.json (not in the spec: any change to what the chart asks for is shown)",
         severity=Severity.WARNING),
)
BUILD_FIGURES = ("dockerBuildSeconds", "buildPushSeconds")
# The spec's boot-time regression is absolute (readiness > readinessAlertSeconds), judged with the
# other pipeline figures; a relative comparison would add a second, unspecified rule.
ABSOLUTE_ONLY = ("containerBootSeconds",)


# -- what a baseline holds ---------------------------------------------------------------------------

def _replicas(manifests: ManifestIndex, workload: Manifest) -> int:
    """Replicas at minimum scale: spec.replicas, else the autoscaler's minReplicas, else 1."""
    replicas = dig(workload.doc, "spec.replicas")
    if isinstance(replicas, int):
        return replicas
    hpa = owning_hpa(manifests, workload)
    return 1 if hpa is None else int(mapping_at(hpa.doc, "spec").get("minReplicas", 1))


def rendered_totals(manifests: ManifestIndex) -> dict[str, Any]:
    """Objects per kind, and requests/limits summed over the service's containers at minimum scale."""
    sums = {kind: {"cpu": Decimal(0), "memory": Decimal(0)} for kind in ("requests", "limits")}
    for workload in manifests.workloads():
        if workload.kind not in SERVICE_KINDS:
            continue
        replicas = _replicas(manifests, workload)
        for container in dig(workload.pod_spec(), "containers") or []:
            for kind, resources in sums.items():
                for resource in resources:
                    raw = dig(container, ("resources", kind, resource))
                    try:
                        resources[resource] += parse_resource(resource, raw) * replicas if raw is not None else 0
                    except QuantityError:
                        continue  # the resources policy reports the bad quantity
    return {
        "objects": dict(sorted(Counter(m.kind for m in manifests).items())),
        **{kind: {"cpuMillicores": int(r["cpu"] * 1000), "memoryBytes": int(r["memory"])} for kind, r in sums.items()},
    }


def snapshot(
    *,
    figures: dict[str, float] | None = None,
    timings: Iterable[Timing] = (),
    rendered: dict[str, dict[str, Any]] | None = None,
    helm_version: str | None = None,
    kube_version: str | None = None,
    phase_starts: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """A baseline document: CI figures, median helm seconds per operation and scope, rendered totals,
    and the figures recorded when each phase started (policies/checks/phasetarget.py)."""
    helm_seconds: dict[str, dict[str, float]] = {}
    for timing in timings:
        if timing.error is None:
            scope = timing.operation.environment or "chart"
            helm_seconds.setdefault(timing.operation.budget_key, {})[scope] = round(timing.median, 3)
    return {
        "version": VERSION,
        "helmVersion": helm_version,
        "kubeVersion": kube_version,
        "figures": dict(sorted((figures or {}).items())),
        "helmSeconds": helm_seconds,
        "rendered": dict(sorted((rendered or {}).items())),
        "phaseStarts": dict(sorted((phase_starts or {}).items())),
    }


def load_baseline(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise InputError("baseline file not found; create one with `make baseline`", file=path)
    text = read_input_text(path, "baseline file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", file=path, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", file=path) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        found = data.get("version") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"expected a baseline of version {VERSION}, found {found!r}; recreate it with "
                         "`make baseline`", file=path, key="version")
    for section in ("figures", "helmSeconds", "rendered", "phaseStarts"):
        if not isinstance(data.get(section, {}), dict):
            raise InputError(f"expected an object, found {type(data[section]).__name__}", file=path, key=section)
    return data


def write_baseline(path: str | Path, document: dict[str, Any]) -> Path:
    return write_text_atomic(path, json.dumps(document, indent=2) + "\n")


# -- comparison ----------------------------------------------------------------------------------------

def _common(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parts both runs measured: figures and helm scopes in both, environments rendered in both."""
    old_figures, new_figures = old.get("figures") or {}, new.get("figures") or {}
    figures = [k for k in new_figures if k in old_figures and k not in ABSOLUTE_ONLY]
    helm = {op: [s for s in scopes if s in mapping_at(old, "helmSeconds").get(op, {})]
            for op, scopes in (new.get("helmSeconds") or {}).items()}
    envs = [e for e in new.get("rendered") or {} if e in (old.get("rendered") or {})]

    def pick(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "figures": {k: doc["figures"][k] for k in figures},
            "helmSeconds": {op: {s: doc["helmSeconds"][op][s] for s in scopes} for op, scopes in helm.items()},
            "rendered": {e: doc["rendered"][e] for e in envs},
        }

    return pick(old), pick(new)


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[list[str | int], float, float]]:
    """(path, old, new) for every number that changed; a kind that appeared or went counts from 0."""
    diff = DeepDiff(old, new, view="tree")
    found = []
    for report, default_old, default_new in (("values_changed", None, None), ("type_changes", None, None),
                                             ("dictionary_item_added", 0, None),
                                             ("dictionary_item_removed", None, 0)):
        for level in diff.get(report, []):
            before = default_old if default_old is not None else level.t1
            after = default_new if default_new is not None else level.t2
            if isinstance(before, int | float) and isinstance(after, int | float):
                found.append((level.path(output_format="list"), float(before), float(after)))
    return sorted(found, key=lambda change: [str(p) for p in change[0]])


def _text(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 1e6:g} MB"
    return f"{value:g} {unit}".strip()


def _total_label(field: Sequence[str | int]) -> str:
    """`requests.memoryBytes` -> `requests.memory`; `objects.Service` -> `Service objects`."""
    if field[0] == "objects":
        return f"{field[1]} objects"
    return f"{field[0]}.{_TOTAL_UNITS.get(str(field[-1]), (str(field[-1]),))[0]}"


def _total_text(field: Sequence[str | int], value: float) -> str:
    """A rendered total as Kubernetes writes it: `1Gi`, `750m`; object counts as numbers."""
    _, to_quantity = _TOTAL_UNITS.get(str(field[-1]), ("", None))
    return to_quantity(Decimal(int(value))) if to_quantity else f"{value:g}"


_TOTAL_UNITS = {
    "memoryBytes": ("memory", format_memory),
    "cpuMillicores": ("cpu", lambda millicores: format_cpu(millicores / 1000)),
}


def _growth(before: float, after: float) -> float | None:
    return (after - before) / before * 100 if before else None


def _change_text(before: float, after: float, unit: str) -> str:
    growth = _growth(before, after)
    delta = after - before
    sign = "+" if delta >= 0 else "-"
    percent = f", {growth:+.1f}%" if growth is not None else ""
    return f"{_text(before, unit)} → {_text(after, unit)} ({sign}{_text(abs(delta), unit)}{percent})"


def _threshold(path: Sequence[str | int], regression: dict[str, Any]) -> tuple[str, float, float, str]:
    """(rule, allowed growth %, minimum absolute change, unit) for a figure or helm timing path."""
    if path[0] == "figures" and path[1] == "imageSizeBytes":
        return ("regression.image-size", float(regression["imageSizeGrowthPercent"]),
                float(regression["minimumAbsoluteChange"]["bytes"]), "bytes")
    rule = "regression.build-time" if path[0] == "figures" and path[1] in BUILD_FIGURES else "regression.stage-time"
    return (rule, float(regression["buildTimeGrowthPercent"]), float(regression["minimumAbsoluteChange"]["seconds"]),
            "s")


def _label(path: Sequence[str | int]) -> str:
    if path[0] == "helmSeconds":
        return f"helm {path[1]}" + (f" ({path[2]})" if path[2] != "chart" else "")
    return ".".join(str(p) for p in path[1:])


def compare(
    old: dict[str, Any], new: dict[str, Any], budget: Budget, baseline_path: str | Path = BASELINE_FILE
) -> tuple[list[Measurement], list[Finding]]:
    """Regressions of `new` against the baseline `old`, with a row per compared CI figure."""
    regression = budget["regression"]
    old, new = _common(old, new)
    measurements: list[Measurement] = []
    findings: list[Finding] = []
    for key, after in new["figures"].items():
        rule, percent, minimum, unit = _threshold(("figures", key), regression)
        before = float(old["figures"][key])
        allowed = max(before * (1 + percent / 100), before + minimum)
        scale = 1e-6 if unit == "bytes" else 1
        measurements.append(Measurement(
            f"{key} vs baseline", "MB" if unit == "bytes" else unit, round(after * scale, 3),
            round(allowed * scale, 3), "failure" if after > allowed else "ok", rule=rule))
    for path, before, after in changes(old, new):
        if path[0] == "rendered":
            env, *field = path[1:]
            before_text, after_text = _total_text(field, before), _total_text(field, after)
            growth = _growth(before, after)
            change = f"{growth:+.1f} %" if growth is not None else "new"
            findings.append(warning(
                "regression.rendered-totals",
                f"rendered {_total_label(field)} changed since the baseline: {before_text} → {after_text} "
                f"({change}); if the change is intended, accept it with `make baseline`",
                environment=str(env), field=".".join(map(str, field)), expected=f"{before_text} (baseline)",
                actual=after_text, file=str(baseline_path)))
            continue
        rule, percent, minimum, unit = _threshold(path, regression)
        growth = _growth(before, after)
        if growth is None or growth <= percent or after - before < minimum:
            continue
        environment = str(path[2]) if path[0] == "helmSeconds" and path[2] != "chart" else None
        findings.append(failure(
            rule, f"{_label(path)} regressed since the baseline: {_change_text(before, after, unit)}; "
                  f"the budget alerts above +{percent:g}% (changes under {_text(minimum, unit)} are ignored)",
            environment=environment, field=_label(path),
            expected=f"<= +{percent:g}% over {_text(before, unit)}", actual=f"{_text(after, unit)} ({growth:+.1f}%)",
            file=str(baseline_path)))
    return measurements, findings


def _totals_figure_text(document: dict[str, Any], figure: str) -> str:
    """One rendered-totals figure as people read it: object count, `500m`, `512Mi`; `-` when absent."""
    if figure == "objects":
        objects = document.get("objects")
        return str(sum(v for v in objects.values() if isinstance(v, int))) if isinstance(objects, dict) else "-"
    kind, resource = figure.split()
    key = "cpuMillicores" if resource == "cpu" else "memoryBytes"
    totals = document.get(kind)
    value = totals.get(key) if isinstance(totals, dict) else None
    if not isinstance(value, int | float):
        return "-"
    return format_cpu(Decimal(value) / 1000) if resource == "cpu" else format_memory(Decimal(value))


TOTALS_FIGURES = ("objects", "requests cpu", "requests memory", "limits cpu", "limits memory")


def totals_comparison(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """Baseline and current rendered totals, side by side, for each environment both hold (report rows)."""
    old_rendered, new_rendered = old.get("rendered") or {}, new.get("rendered") or {}
    return [
        {"environment": env, "figure": figure, "baseline": _totals_figure_text(old_rendered[env], figure),
         "current": _totals_figure_text(current, figure)}
        for env, current in new_rendered.items() if isinstance(old_rendered.get(env), dict)
        for figure in TOTALS_FIGURES
    ]
