"""values.schema.json rejects mistakes: closed objects, typed and bounded values, enforced by both helms."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonrefs import inline_refs
from yamllint import linter
from yamllint.config import YamlLintConfig

from policies import REPO_ROOT
from policies.core.errors import InputError
from policies.inputs.budget import load_budget
from policies.inputs.validation import validator_for
from policies.render.helm import DEFAULT_KUBE_VERSION, Helm, HelmError, find_helm
from policies.render.helmcalls import RELEASE_NAME, RenderSettings
from policies.render.render import check_values_schema, load_values_layers, render_environment

ENVIRONMENTS = load_budget().environments
MODELINE = "# yaml-language-server: $schema=values.schema.json"
# Kubernetes objects passed through to the pod spec as they are. They stay open here; the
# strict Kubernetes schema check of the render catches a typo inside them.
PASSTHROUGH = {
    "global": "reserved for a parent chart's values",
    "podSecurityContext": "Kubernetes PodSecurityContext",
    "securityContext": "Kubernetes SecurityContext",
    "affinity": "Kubernetes Affinity",
    "tolerations[]": "Kubernetes Toleration",
    "topologySpreadConstraints[]": "Kubernetes TopologySpreadConstraint",
    "networkPolicy.ingressFrom[]": "Kubernetes NetworkPolicyPeer",
    "networkPolicy.egress.extraRules[]": "Kubernetes NetworkPolicyEgressRule",
}
# Keywords of JSON Schema draft-07 that Helm 3.17 (draft-07 validator) and Helm 4 both enforce.
DRAFT_07_KEYWORDS = {
    "$schema", "title", "description", "type", "properties", "additionalProperties", "required", "items",
    "enum", "const", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
    "maxLength", "minItems", "maxItems", "uniqueItems", "oneOf", "anyOf", "allOf", "not", "propertyNames",
    "default", "examples",
    # Repeated shapes live once under $defs and are named by a local $ref (a JSON pointer, which a draft-07
    # validator resolves anywhere in the document); tests/test_values_schema.py proves both helms enforce them.
    "$ref", "$defs",
}
BAD_VALUES = {
    "memory-1Gb": ({"resources": {"limits": {"memory": "1Gb"}}}, "resources.limits.memory"),
    "cpu-100Mi": ({"resources": {"requests": {"cpu": "100Mi"}}}, "resources.requests.cpu"),
    "cpu-negative": ({"resources": {"limits": {"cpu": -1}}}, "resources.limits.cpu"),
    "replicas-as-text": ({"replicaCount": "3"}, "replicaCount"),
    "flag-as-text": ({"features": {"observability": "yes"}}, "features.observability"),
    "pull-policy-enum": ({"image": {"pullPolicy": "Sometimes"}}, "image.pullPolicy"),
    "service-type-enum": ({"service": {"type": "Ingress"}}, "service.type"),
    "empty-repository": ({"image": {"repository": ""}}, "image.repository"),
    "probe-period-zero": ({"probes": {"readiness": {"periodSeconds": 0}}}, "probes.readiness.periodSeconds"),
    "port-out-of-range": ({"containerPort": 70000}, "containerPort"),
    "cpu-percent-over-100": ({"autoscaling": {"targetCPUUtilizationPercentage": 150}},
                             "autoscaling.targetCPUUtilizationPercentage"),
    "nested-typo": ({"probes": {"readiness": {"periodSecond": 5}}}, "probes.readiness.periodSecond"),
    # One case per shape declared once in $defs and reached through $ref.
    "test-pod-memory-1Gb": ({"budgetTest": {"resources": {"limits": {"memory": "1Gb"}}}},
                            "budgetTest.resources.limits.memory"),
    "requests-typo": ({"resources": {"requests": {"cpus": "1"}}}, "resources.requests.cpus"),
    "liveness-typo": ({"probes": {"liveness": {"failureThresold": 3}}}, "probes.liveness.failureThresold"),
    "startup-timeout-zero": ({"probes": {"startup": {"timeoutSeconds": 0}}}, "probes.startup.timeoutSeconds"),
    "readiness-success-zero": ({"probes": {"readiness": {"successThreshold": 0}}},
                               "probes.readiness.successThreshold"),
}
GOOD_VALUES = {
    "cpu-decimal": {"resources": {"limits": {"cpu": "1.5", "memory": "1Gi"}}},
    "cpu-number": {"resources": {"limits": {"cpu": 2}}},
    "surge-percent": {"rollout": {"maxSurge": "25%"}},
    "passthrough-affinity": {"affinity": {"nodeAffinity": {}}},
}


@pytest.fixture(scope="module")
def raw_schema(chart_dir: Path) -> dict[str, Any]:
    return json.loads((chart_dir / "values.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema(raw_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as a tree, its $refs inlined."""
    return inline_refs(raw_schema)


@pytest.fixture(scope="module", params=["HELM", "HELM3"], ids=lambda v: f"helm={v}")
def each_helm(request: pytest.FixtureRequest) -> Helm:
    return find_helm(request.param)


def _walk(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema with its values path: `a.b` for properties, `a[]` for array items."""
    yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{key}" if path else key)
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], f"{path}.*")
    for keyword in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(keyword, []):
            yield from _walk(sub, path)


def _is_open(node: dict[str, Any]) -> bool:
    """An object that accepts keys nobody declared (a typed map is not open)."""
    is_object = node.get("type") == "object" or "properties" in node
    return is_object and node.get("additionalProperties", True) is True


def _open_objects(schema: dict[str, Any]) -> set[str]:
    return {path for path, node in _walk(schema) if _is_open(node)}


def _template(helm: Helm, chart: Path, values: Path) -> None:
    helm.run("template", RELEASE_NAME, str(chart), "--kube-version", DEFAULT_KUBE_VERSION,
             "--values", str(values))


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _typo_chart(tmp_path: Path, chart_dir: Path, environment: str) -> Path:
    """A copy of the chart whose environment file says `resurces:` instead of `resources:`."""
    chart = tmp_path / chart_dir.name
    shutil.copytree(chart_dir, chart)
    env_file = chart / f"values-{environment}.yaml"
    text = env_file.read_text(encoding="utf-8")
    assert "\nresources:" in text
    env_file.write_text(text.replace("\nresources:", "\nresurces:"), encoding="utf-8")
    return chart


# -- the schema itself ---------------------------------------------------------------------------


def test_should_close_every_object_except_the_listed_kubernetes_passthroughs(schema: dict[str, Any]) -> None:
    assert _open_objects(schema) == set(PASSTHROUGH)


def test_should_notice_an_object_left_open() -> None:
    leaky = {"type": "object", "additionalProperties": False,
             "properties": {"resources": {"type": "object", "properties": {"cpu": {"type": "string"}}}}}
    assert _open_objects(leaky) == {"resources"}


def test_should_describe_every_key(schema: dict[str, Any]) -> None:
    undocumented = [path for path, node in _walk(schema) if path and not path.endswith(("[]", "*"))
                    and not node.get("description") and not _is_alternative(schema, path, node)]
    assert undocumented == []


def _is_alternative(schema: dict[str, Any], path: str, node: dict[str, Any]) -> bool:
    """A oneOf/anyOf branch: described by the key that holds it."""
    return any(node is sub for p, parent in _walk(schema) if p == path
               for keyword in ("oneOf", "anyOf", "allOf") for sub in parent.get(keyword, []))


def test_should_use_only_draft_07_keywords_both_helms_enforce(raw_schema: dict[str, Any]) -> None:
    assert raw_schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    used = {keyword for _, node in _walk(raw_schema) for keyword in node}
    used |= {keyword for shape in raw_schema["$defs"].values() for _, node in _walk(shape) for keyword in node}
    assert used - DRAFT_07_KEYWORDS == set()


def _shapes(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every object subschema, as JSON without descriptions, with where it is."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield json.dumps(_undescribed(node), sort_keys=True), path
        for key, value in node.items():
            yield from _shapes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _shapes(value, f"{path}/{index}")


def _undescribed(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _undescribed(value) for key, value in node.items() if key != "description"}
    return [_undescribed(item) for item in node] if isinstance(node, list) else node


def test_should_declare_each_repeated_shape_once(raw_schema: dict[str, Any]) -> None:
    places: dict[str, list[str]] = {}
    for shape, path in _shapes(raw_schema):
        places.setdefault(shape, []).append(path)
    assert [paths for paths in places.values() if len(paths) > 1] == []
    referenced = set(re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(raw_schema)))
    assert referenced == set(raw_schema["$defs"])  # no shape declared and never used


def test_should_accept_the_values_of_every_environment(chart_dir: Path) -> None:
    for environment in ENVIRONMENTS:
        check_values_schema(load_values_layers(environment))
    validator_for(chart_dir / "values.schema.json").check_schema(
        json.loads((chart_dir / "values.schema.json").read_text(encoding="utf-8")))


# -- typos fail everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda env: f"env={env}")
def test_should_fail_helm_template_on_a_typo_in_the_environment_file(
    tmp_path: Path, chart_dir: Path, each_helm: Helm, environment: str
) -> None:
    chart = _typo_chart(tmp_path, chart_dir, environment)
    with pytest.raises(HelmError) as caught:
        _template(each_helm, chart, chart / f"values-{environment}.yaml")
    assert "resurces" in str(caught.value)


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda env: f"env={env}")
def test_should_fail_the_render_on_a_typo_naming_file_line_and_key(
    tmp_path: Path, chart_dir: Path, helm: Helm, environment: str
) -> None:
    chart = _typo_chart(tmp_path, chart_dir, environment)
    with pytest.raises(InputError) as caught:
        render_environment(environment, RenderSettings(chart=chart), helm=helm)
    error = caught.value
    env_file = chart / f"values-{environment}.yaml"
    assert (error.file, error.key) == (str(env_file), "resurces")
    assert env_file.read_text(encoding="utf-8").splitlines()[error.line - 1].startswith("resurces:")
    assert "resources" in error.message  # the message lists the keys that are allowed


# -- bad values fail in both helms and in the harness ----------------------------------------------


@pytest.mark.parametrize(("overlay", "key"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_should_reject_bad_values_in_both_helms(
    tmp_path: Path, chart_dir: Path, each_helm: Helm, overlay: dict[str, Any], key: str
) -> None:
    with pytest.raises(HelmError) as caught:
        _template(each_helm, chart_dir, _write(tmp_path, "bad.yaml", overlay))
    assert "schema" in str(caught.value)


@pytest.mark.parametrize(("overlay", "key"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_should_reject_bad_values_before_calling_helm(
    tmp_path: Path, overlay: dict[str, Any], key: str
) -> None:
    bad = _write(tmp_path, "bad.yaml", overlay)
    with pytest.raises(InputError) as caught:
        check_values_schema(load_values_layers("staging", RenderSettings(extra_values=(bad,))))
    assert (caught.value.file, caught.value.key) == (str(bad), key)


@pytest.mark.parametrize("overlay", GOOD_VALUES.values(), ids=GOOD_VALUES.keys())
def test_should_accept_valid_values_in_both_helms(
    tmp_path: Path, chart_dir: Path, each_helm: Helm, overlay: dict[str, Any]
) -> None:
    good = _write(tmp_path, "good.yaml", overlay)
    check_values_schema(load_values_layers("staging", RenderSettings(extra_values=(good,))))
    _template(each_helm, chart_dir, good)


# -- the files -------------------------------------------------------------------------------------


def _values_files(chart_dir: Path) -> list[Path]:
    return sorted(chart_dir.glob("values*.yaml"))


def test_should_start_every_values_file_with_the_schema_modeline(chart_dir: Path) -> None:
    files = _values_files(chart_dir)
    assert len(files) == 1 + len(ENVIRONMENTS)
    without = [f.name for f in files if f.read_text(encoding="utf-8").splitlines()[:1] != [MODELINE]]
    assert without == []


def _lint(paths: list[Path]) -> list[str]:
    config = YamlLintConfig(file=str(REPO_ROOT / ".yamllint"))
    problems = []
    for path in paths:
        relative = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name
        if config.is_file_ignored(str(relative)):
            continue
        text = path.read_text(encoding="utf-8")
        problems += [f"{relative}:{p.line}:{p.column}: {p.desc} ({p.rule})"
                     for p in linter.run(text, config, str(relative))]
    return problems


def _linted_files(chart_dir: Path) -> list[Path]:
    policy_data = sorted((REPO_ROOT / "policies").glob("*.yaml"))
    return [*_values_files(chart_dir), chart_dir / "Chart.yaml", *policy_data]


def test_should_pass_yamllint_with_the_repository_config(chart_dir: Path) -> None:
    assert _lint(_linted_files(chart_dir)) == []


def test_should_not_lint_templates_which_are_go_templates(chart_dir: Path) -> None:
    config = YamlLintConfig(file=str(REPO_ROOT / ".yamllint"))
    assert config.is_file_ignored(str((chart_dir / "templates" / "deployment.yaml").relative_to(REPO_ROOT)))


def test_should_report_yamllint_problems_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "values-broken.yaml"
    broken.write_text("key: 1\nkey: 2\ntrailing: x   \n", encoding="utf-8")
    problems = _lint([broken])
    assert problems == [
        "values-broken.yaml:2:1: duplication of key \"key\" in mapping (key-duplicates)",
        "values-broken.yaml:3:12: trailing spaces (trailing-spaces)",
    ]
