"""Property-based values tests: whatever values.schema.json accepts renders, validates and is judged right.

Overlays are generated from the chart's own schema (hypothesis-jsonschema) for
the settings people change per install: replicas, image tag and digest,
resources, features, metrics, probes, rollout, termination, autoscaling, the
PodDisruptionBudget, NetworkPolicy switches, ports, the test pod and the namespace guards. Kubernetes
passthrough objects (security contexts, affinity, tolerations, peers) and free
names are pinned: the schema leaves them open on purpose and Kubernetes, not
this chart, owns their validity.

`make test` runs a small fixed-seed sample. `make fuzz` (FUZZ_SECONDS=<n>) runs
fresh random batches until its time is spent and prints how many examples it
tried. A failure prints its shrunk overlay as a values file to reproduce with
`helm template ... --values <file>`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine
from hypothesis_jsonschema import from_schema
from jsonrefs import inline_refs

from policies import CHART_DIR
from policies.checks.context import CheckContext
from policies.checks.kubeschema import chart_kube_versions, validate_manifests
from policies.checks.rules import resources
from policies.core.errors import InputError
from policies.core.quantity import BINARY, DECIMAL, parse_resource
from policies.inputs.budget import KINDS, RESOURCES, Budget, load_budget
from policies.render.helm import Helm
from policies.render.helmcalls import RenderSettings
from policies.render.render import Render, check_values_schema, deep_merge, load_values_layers, render_environment

pytestmark = pytest.mark.fuzz

ENVIRONMENTS = load_budget().environments
# The oldest and newest Kubernetes the chart supports (Chart.yaml kubeVersion).
KUBE_VERSIONS = (chart_kube_versions()[0], chart_kube_versions()[-1])
FUZZED_KEYS = ("replicaCount", "image", "resources", "features", "metrics", "probes", "rollout",
               "terminationGracePeriodSeconds", "preStopSleepSeconds", "autoscaling", "podDisruptionBudget",
               "networkPolicy", "service", "containerPort", "budgetTest", "budgetGuard", "monitoring")
# Open or free-form values held at their defaults (see the module docstring).
PINNED = (("image", "repository"), ("budgetTest", "image", "repository"), ("networkPolicy", "ingressFrom"),
          ("networkPolicy", "egress", "extraRules"))

# 0 (the default) runs the fixed-seed sample of `make test`; `make fuzz` sets a time budget.
FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS") or 0)
# Each render example costs a helm process, generating an overlay from the schema and two schema passes.
# The render property runs once per environment (four examples each, twelve in all; it was ten over all three
# in one test of 8.6 s), so each test stays far under 5 s and the workers share them. The wide search is
# `make fuzz`'s job: half its time for the renders (split between the environments), half for the resources.
SAMPLE_EXAMPLES = {**{f"render-{env}": 4 for env in ENVIRONMENTS}, "production-resources": 10}
FUZZ_SHARE = {**{f"render-{env}": 0.5 / len(ENVIRONMENTS) for env in ENVIRONMENTS}, "production-resources": 0.5}
SAMPLE = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Every shrink step renders with helm; past this many seconds keep the smallest failure found so far
# (Hypothesis' own limit, 300 s, makes a failing `make test` wait five minutes).
SHRINK_SECONDS = int(os.environ.get("FUZZ_SHRINK_SECONDS") or 60)
FUZZ = settings(derandomize=False, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Label values: at most 63 characters, alphanumeric at both ends (apimachinery IsValidLabelValue).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


# -- generating overlays -----------------------------------------------------------------------


def _load_chart_file(name: str) -> Any:
    text = (CHART_DIR / name).read_text(encoding="utf-8")
    # The schema with its $refs inlined, so a subschema (one key's) stands alone.
    return inline_refs(json.loads(text)) if name.endswith(".json") else yaml.safe_load(text)


def overlay_schema() -> dict[str, Any]:
    """The chart schema cut down to FUZZED_KEYS, with PINNED keys held at their defaults."""
    schema, defaults = _load_chart_file("values.schema.json"), _load_chart_file("values.yaml")
    properties = {key: copy.deepcopy(schema["properties"][key]) for key in FUZZED_KEYS}
    for path in PINNED:
        node, default = properties[path[0]], defaults[path[0]]
        for key in path[1:]:
            node, default = node["properties"][key], default[key]
        node.clear()
        node["const"] = default
    return {"type": "object", "additionalProperties": False, "properties": properties}


class _ValuesDumper(yaml.SafeDumper):
    """Quotes every string but plain words: PyYAML writes `tag: 057495` and `tag: Y` bare, and Helm's
    parser reads those back as a number and a boolean (single letters y/n are booleans there)."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]+", text) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_ValuesDumper.add_representer(str, _represent_str)


def dump_values(overlay: dict[str, Any]) -> str:
    return yaml.dump(overlay, Dumper=_ValuesDumper, sort_keys=True, default_flow_style=False)


def values_file(environment: str, overlay: dict[str, Any]) -> str:
    header = f"# Overlay on values-{environment}.yaml (helm template ... --values this-file)\n"
    return header + dump_values(overlay)


def merged_values(environment: str, overlay: dict[str, Any]) -> dict[str, Any]:
    return deep_merge(_base_values(environment), overlay)


_BASE: dict[str, dict[str, Any]] = {}


def _base_values(environment: str) -> dict[str, Any]:
    if environment not in _BASE:
        _BASE[environment] = load_values_layers(environment).merged
    return _BASE[environment]


def cross_field_rules_hold(values: dict[str, Any]) -> bool:
    """The chart's `fail` guards: relations between two values that a JSON schema cannot state."""
    pre_stop, grace = values["preStopSleepSeconds"], values["terminationGracePeriodSeconds"]
    scaling, guard = values["autoscaling"], values["budgetGuard"]
    return ((pre_stop == 0 or pre_stop < grace)
            and not (values["metrics"]["enabled"] and values["metrics"]["port"] == values["containerPort"])
            and not (scaling["enabled"] and scaling["minReplicas"] > scaling["maxReplicas"])
            and not any(parse_resource(resource, guard["requests"][resource])
                        > parse_resource(resource, guard["limits"][resource]) for resource in RESOURCES))


# -- running ---------------------------------------------------------------------------------


def explore(name: str, strategy: st.SearchStrategy[Any], body: Callable[[Any], None]) -> int:
    """Run `body` over generated examples; return how many were tried.

    Without FUZZ_SECONDS: one fixed-seed run of SAMPLE_EXAMPLES[name]. With it:
    fresh random batches, each sized to the time left, until this test's share is spent.
    """
    tried = 0

    def counted(example: Any) -> None:
        nonlocal tried
        tried += 1
        body(example)

    if not FUZZ_SECONDS:
        settings(SAMPLE, max_examples=SAMPLE_EXAMPLES[name])(given(strategy)(counted))()
        return tried
    started = time.monotonic()
    share = FUZZ_SECONDS * FUZZ_SHARE[name]
    batch = 10
    while (left := share - (time.monotonic() - started)) > 0:
        settings(FUZZ, max_examples=batch)(given(strategy)(counted))()
        per_example = (time.monotonic() - started) / max(tried, 1)
        batch = max(1, min(500, int(left / per_example)))
    elapsed = time.monotonic() - started
    print(f"\nfuzz {name}: {tried} examples tried in {elapsed:.0f}s ({tried / elapsed:.1f}/s)")
    return tried


@pytest.fixture(scope="module", autouse=True)
def bounded_shrinking() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "MAX_SHRINKING_SECONDS", SHRINK_SECONDS)
        yield


@pytest.fixture(scope="module")
def render_values(helm: Helm) -> Iterator[Callable[[str, dict[str, Any]], Render]]:
    """Render an environment plus an overlay (hypothesis calls this many times; no function fixtures)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-values-") as directory:
        path = Path(directory) / "overlay.yaml"

        def render(environment: str, overlay: dict[str, Any]) -> Render:
            path.write_text(dump_values(overlay), encoding="utf-8")
            return render_environment(environment, RenderSettings(extra_values=(path,)), helm=helm)

        yield render


# -- properties ------------------------------------------------------------------------------


def api_server_problems(render: Render) -> list[str]:
    """Rules the API server enforces that the OpenAPI schemas do not express."""
    problems: list[str] = []
    for manifest in render.manifests:
        for key, value in (manifest.doc.get("metadata", {}).get("labels") or {}).items():
            if len(str(value)) > 63 or not LABEL_VALUE.match(str(value)):
                problems.append(f"{manifest.ref}: label {key}={value!r} is not a valid label value")
        ports = (manifest.doc.get("spec") or {}).get("ports") or [] if manifest.kind == "Service" else []
        numbers = [(p.get("port"), p.get("protocol", "TCP")) for p in ports]
        if len(set(numbers)) != len(numbers):
            problems.append(f"{manifest.ref}: duplicate Service ports {numbers}")
        for container in (manifest.pod_spec() or {}).get("containers") or []:
            declared = [(p.get("containerPort"), p.get("protocol", "TCP")) for p in container.get("ports") or []]
            if len(set(declared)) != len(declared):
                problems.append(f"{manifest.ref}: container {container['name']} declares duplicate ports")
    return problems


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda env: f"env={env}")
def test_should_render_valid_manifests_for_any_schema_valid_values(
        render_values: Callable[[str, dict[str, Any]], Render], environment: str) -> None:
    def body(overlay: dict[str, Any]) -> None:
        note(values_file(environment, overlay))
        assume(cross_field_rules_hold(merged_values(environment, overlay)))
        render = render_values(environment, overlay)  # raises with helm's stderr if the render fails
        findings = validate_manifests(render.manifests, KUBE_VERSIONS, environment)
        problems = [f.message for f in findings] + api_server_problems(render)
        assert not problems, "\n".join(problems)

    assert explore(f"render-{environment}", from_schema(overlay_schema()), body) > 0


# -- the production resource budget ----------------------------------------------------------


def _units(resource: str) -> dict[str, Decimal]:
    if resource == "cpu":
        return {"m": DECIMAL["m"], "": DECIMAL[""]}
    return {"": Decimal(1), "k": DECIMAL["k"], "M": DECIMAL["M"], "G": DECIMAL["G"],
            **{suffix: Decimal(BINARY[suffix]) for suffix in ("Ki", "Mi", "Gi")}}


def near(allowed: Decimal, resource: str) -> st.SearchStrategy[str]:
    """Quantities from 0 to twice the budget, in every unit, often exactly at or next to the budget."""
    def in_unit(suffix: str) -> st.SearchStrategy[str]:
        factor = _units(resource)[suffix]
        at_budget = int(allowed / factor)
        around = st.integers(-1, 1).map(lambda step: max(at_budget + step, 0))
        amounts = st.one_of(st.integers(0, 2 * at_budget + 1), around)
        return amounts.map(lambda amount: f"{amount}{suffix}")

    return st.sampled_from(sorted(_units(resource))).flatmap(in_unit)


def production_resources(budget: Budget) -> st.SearchStrategy[dict[str, Any]]:
    schema = _load_chart_file("values.schema.json")["properties"]["resources"]
    near_budget = st.fixed_dictionaries({
        kind: st.fixed_dictionaries({
            resource: near(budget.resource_budget("production", kind, resource), resource)
            for resource in RESOURCES})
        for kind in KINDS
    })
    return st.one_of(near_budget, from_schema(schema))


def test_should_flag_exactly_the_production_resources_above_budget(
        render_values: Callable[[str, dict[str, Any]], Render], budget: Budget) -> None:
    validator = jsonschema.Draft7Validator(_load_chart_file("values.schema.json"))

    def body(requested: dict[str, Any]) -> None:
        overlay = {"resources": requested}
        note(values_file("production", overlay))
        assert not list(validator.iter_errors(merged_values("production", overlay))), "generator left the schema"
        render = render_values("production", overlay)
        ctx = CheckContext("production", budget, render.manifests, render.layers)
        # The field ends in resources.<kind>.<resource>.
        flagged = {".".join(f.field.split(".")[-2:]) for f in resources.check(ctx)
                   if f.rule == "resources.within-budget"}
        over = {f"{kind}.{resource}" for kind in KINDS for resource in RESOURCES
                if parse_resource(resource, requested[kind][resource])
                > budget.resource_budget("production", kind, resource)}
        assert flagged == over, f"flagged {sorted(flagged)}, above budget {sorted(over)}"

    assert explore("production-resources", production_resources(budget), body) > 0


# -- counterexamples found, fixed, and kept as regressions ----------------------------------------


@pytest.mark.parametrize(("overlay", "key"), [
    pytest.param({"metrics": {"serviceMonitor": {"scrapeTimeout": "0ms0ms"}}},
                 "metrics.serviceMonitor.scrapeTimeout", id="duration-with-a-repeated-unit"),
    pytest.param({"metrics": {"serviceMonitor": {"interval": "30s1m"}}},
                 "metrics.serviceMonitor.interval", id="duration-units-out-of-order"),
    pytest.param({"monitoring": {"prometheusRule": {"for": ""}}}, "monitoring.prometheusRule.for",
                 id="empty-duration"),
    pytest.param({"resources": {"requests": {"memory": 7.903066419092225e37}}}, "resources.requests.memory",
                 id="memory-number-beyond-float-precision"),
    pytest.param({"resources": {"limits": {"cpu": "1" * 30}}}, "resources.limits.cpu",
                 id="cpu-with-thirty-digits"),
    # Helm prints integers >= 10^6 as 1e+06: invalid for integer fields and for Prometheus durations.
    pytest.param({"monitoring": {"prometheusRule": {"readinessSeconds": 25061794596964}}},
                 "monitoring.prometheusRule.readinessSeconds", id="alert-seconds-printed-as-exponent"),
    pytest.param({"terminationGracePeriodSeconds": 7077747081940}, "terminationGracePeriodSeconds",
                 id="grace-period-printed-as-exponent"),
    pytest.param({"replicaCount": 1000000}, "replicaCount", id="replicas-printed-as-exponent"),
    pytest.param({"probes": {"startup": {"periodSeconds": 169553936}}}, "probes.startup.periodSeconds",
                 id="probe-period-printed-as-exponent"),
])
def test_regression_should_reject_in_the_schema(tmp_path: Path, overlay: dict[str, Any], key: str) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        check_values_schema(load_values_layers("development", RenderSettings(extra_values=(path,))))
    assert caught.value.key == key


def test_regression_should_print_the_largest_accepted_integers_as_integers(
        render_values: Callable[[str, dict[str, Any]], Render]) -> None:
    largest = {"replicaCount": 1000, "terminationGracePeriodSeconds": 86400, "preStopSleepSeconds": 3600,
               "rollout": {"maxSurge": 1000, "minReadySeconds": 3600, "revisionHistoryLimit": 100},
               "probes": {"liveness": {"initialDelaySeconds": 3600, "periodSeconds": 3600,
                                       "timeoutSeconds": 3600, "failureThreshold": 1000}},
               "budgetTest": {"requests": 10000, "metricsMaxBytes": 999999},
               "monitoring": {"prometheusRule": {"readinessSeconds": 86400}}}
    render = render_values("staging", largest)
    assert "e+0" not in render.text
    assert validate_manifests(render.manifests, KUBE_VERSIONS, "staging") == []


@pytest.mark.parametrize("duration", ["0", "30s", "1m30s", "1h2m3s4ms"])
def test_regression_should_render_prometheus_durations_the_operator_accepts(
        render_values: Callable[[str, dict[str, Any]], Render], duration: str) -> None:
    overlay = {"metrics": {"serviceMonitor": {"interval": duration, "scrapeTimeout": duration}}}
    render = render_values("development", overlay)
    assert render.manifests.get("ServiceMonitor").doc["spec"]["endpoints"][0]["interval"] == duration
    assert validate_manifests(render.manifests, KUBE_VERSIONS, "development") == []


def test_regression_should_render_a_zero_alert_duration_as_a_string(
        render_values: Callable[[str, dict[str, Any]], Render]) -> None:
    render = render_values("production", {"monitoring": {"prometheusRule": {"for": "0"}}})
    rules = render.manifests.get("PrometheusRule").doc["spec"]["groups"][0]["rules"]
    assert {rule["for"] for rule in rules if rule.get("alert") and "for" in rule} >= {"0"}
    assert validate_manifests(render.manifests, KUBE_VERSIONS, "production") == []


def test_regression_should_write_overlays_helm_reads_back_identically(
        render_values: Callable[[str, dict[str, Any]], Render]) -> None:
    # Found by the fuzzer: a digit-only tag written bare reached helm as a number.
    overlay = {"image": {"tag": "057495"}, "budgetTest": {"image": {"tag": "Y"}},
               "resources": {"limits": {"memory": 1e15}}}
    assert yaml.safe_load(dump_values(overlay)) == overlay
    render = render_values("staging", overlay)
    assert render.manifests.get("Deployment").doc["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        ":057495")


@pytest.mark.parametrize("tag", ["_1.0.0-", "a" * 62 + "." + "b" * 65, "1.0.0"])
def test_regression_should_derive_a_valid_version_label_from_any_accepted_tag(
        render_values: Callable[[str, dict[str, Any]], Render], tag: str) -> None:
    render = render_values("staging", {"image": {"tag": tag}})
    assert api_server_problems(render) == []
    assert render.manifests.get("Deployment").doc["spec"]["template"]["spec"]["containers"][0]["image"].endswith(tag)


def test_regression_should_judge_pod_labels_whose_keys_yaml_reads_as_numbers_or_booleans(
        render_values: Callable[[str, dict[str, Any]], Render]) -> None:
    # The values route of the label-key crash: helm reads `0:` in a values file as the string "0" (sigs.k8s.io/yaml)
    # and quotes it in the render; the harness's own values reading must agree (tests/test_json_keys.py holds the
    # `--manifests` route, where a bare `0:` reached the schema check's json.dumps and crashed it).
    render = render_values("production", {"podLabels": {0: "zero", True: "yes", 1.5: "float"}})
    labels = render.manifests.get("Deployment").doc["spec"]["template"]["metadata"]["labels"]
    assert {key: labels[key] for key in ("0", "true", "1.5")} == {"0": "zero", "true": "yes", "1.5": "float"}
    assert validate_manifests(render.manifests, KUBE_VERSIONS, "production") == []
    assert api_server_problems(render) == []
