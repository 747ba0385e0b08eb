"""Every rendered document is valid, in strict mode, for every Kubernetes version the chart supports."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from policies.checks import kubeschema
from policies.checks.kubeschema import RULE, UNKNOWN_KIND_RULE, chart_kube_versions, validate_manifests
from policies.core.errors import InputError
from policies.core.findings import Finding
from policies.render.manifests import Manifest, parse_manifests
from policies.render.render import Render

DEPLOYMENT_TEMPLATE = "prompted-forge-mcp/templates/deployment.yaml"
RenderEnv = Callable[[str], Render]
KUBE_VERSIONS = chart_kube_versions()


def _only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.message for f in findings]
    return findings[0]


def _deployment(render: Render) -> dict[str, Any]:
    return copy.deepcopy(render.manifests.get("Deployment").doc)


def test_should_derive_the_versions_from_the_chart_kube_version_range() -> None:
    # Chart.yaml says ">=1.31.0-0 <1.36.0-0".
    assert KUBE_VERSIONS == ("1.31", "1.32", "1.33", "1.34", "1.35")


@pytest.mark.parametrize(
    ("range_text", "expected"),
    [
        (">=1.33.0-0", ("1.33", "1.34", "1.35", "1.36", "1.37")),
        ("~1.32.0", ("1.32",)),
        ("1.30 - 1.31", ("1.30", "1.31")),
    ],
    ids=["open-upper-bound", "tilde", "hyphen-range"],
)
def test_should_compute_versions_for_other_ranges(
    tmp_path: Path, range_text: str, expected: tuple[str, ...]
) -> None:
    chart_yaml = f"apiVersion: v2\nname: x\nversion: 0.1.0\nkubeVersion: '{range_text}'\n"
    (tmp_path / "Chart.yaml").write_text(chart_yaml)
    assert kubeschema.chart_kube_versions(tmp_path) == expected


def test_should_reject_a_kube_version_range_with_no_supported_version(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\nkubeVersion: '<1.20.0'\n")
    with pytest.raises(InputError, match="contains none of the Kubernetes versions") as caught:
        kubeschema.chart_kube_versions(tmp_path)
    assert caught.value.line == 4


def test_should_pass_strict_validation_for_every_environment_and_version(rendered: Render) -> None:
    findings = validate_manifests(rendered.manifests, KUBE_VERSIONS, rendered.environment)
    assert findings == [], "\n".join(f.message for f in findings)


def test_should_check_the_custom_resources_against_pinned_crd_schemas(render_env: RenderEnv) -> None:
    # Development renders a ServiceMonitor, production a PrometheusRule: neither is a built-in kind.
    for environment, kind in (("development", "ServiceMonitor"), ("production", "PrometheusRule")):
        manifest = render_env(environment).manifests.get(kind)
        assert kubeschema.validator_for(kind, "monitoring.coreos.com/v1", KUBE_VERSIONS[0]) is not None
        assert validate_manifests([manifest], KUBE_VERSIONS, environment) == []


def test_should_fail_an_unknown_field_naming_document_field_and_version(render_env: RenderEnv) -> None:
    doc = _deployment(render_env("production"))
    doc["spec"]["template"]["spec"]["containers"][0]["resurces"] = {"limits": {"cpu": "1"}}
    manifest = Manifest(doc, source=DEPLOYMENT_TEMPLATE)
    finding = _only(validate_manifests([manifest], KUBE_VERSIONS, "production"))
    assert finding.rule == RULE
    assert finding.resource == "Deployment/prompted-forge-mcp"
    assert finding.field == "spec.template.spec.containers[0].resurces"
    assert finding.actual == "resurces"
    assert "resources" in finding.expected
    assert "Kubernetes 1.31, 1.32, 1.33, 1.34, 1.35" in finding.message
    assert finding.environment == "production"
    assert finding.source == DEPLOYMENT_TEMPLATE


def test_should_fail_a_wrong_type_with_expected_and_actual(render_env: RenderEnv) -> None:
    doc = _deployment(render_env("staging"))
    doc["spec"]["replicas"] = "two"
    finding = _only(validate_manifests([Manifest(doc)], ["1.31"], "staging"))
    assert (finding.field, finding.actual) == ("spec.replicas", "two")
    assert "integer" in finding.expected
    assert "Kubernetes 1.31" in finding.message


def test_should_name_only_the_versions_that_reject_a_field(render_env: RenderEnv) -> None:
    # `restartPolicyRules` on a container exists in the 1.34 schemas and not in 1.33.
    doc = _deployment(render_env("staging"))
    doc["spec"]["template"]["spec"]["containers"][0]["restartPolicyRules"] = []
    finding = _only(validate_manifests([Manifest(doc)], ["1.33", "1.34"], "staging"))
    assert finding.field == "spec.template.spec.containers[0].restartPolicyRules"
    assert "(Kubernetes 1.33," in finding.message


def test_should_name_exactly_the_versions_that_reject_a_field_across_the_whole_range(
    render_env: RenderEnv,
) -> None:
    # HPAScalingRules.tolerance arrived in the 1.33 schemas: 1.31 and 1.32 reject it, 1.33-1.35 accept it.
    doc = copy.deepcopy(render_env("production").manifests.get("HorizontalPodAutoscaler").doc)
    doc["spec"].setdefault("behavior", {}).setdefault("scaleUp", {})["tolerance"] = "0.05"
    finding = _only(validate_manifests([Manifest(doc)], KUBE_VERSIONS, "production"))
    assert (finding.rule, finding.field, finding.actual) == (RULE, "spec.behavior.scaleUp.tolerance", "tolerance")
    assert finding.message.endswith(": unknown field 'tolerance' (Kubernetes 1.31, 1.32, strict schema)")
    assert validate_manifests([Manifest(doc)], KUBE_VERSIONS[2:], "production") == []


def test_should_fail_an_unknown_field_in_a_custom_resource(render_env: RenderEnv) -> None:
    doc = copy.deepcopy(render_env("development").manifests.get("ServiceMonitor").doc)
    doc["spec"]["endpoints"][0]["intervall"] = "5s"
    finding = _only(validate_manifests([Manifest(doc)], ["1.35"], "development"))
    assert finding.field == "spec.endpoints[0].intervall"
    assert "interval" in finding.expected


def test_should_validate_custom_resource_metadata_as_object_meta(render_env: RenderEnv) -> None:
    doc = copy.deepcopy(render_env("production").manifests.get("PrometheusRule").doc)
    doc["metadata"]["label"] = {"team": "forge"}
    assert _only(validate_manifests([Manifest(doc)], ["1.31"], "production")).field == "metadata.label"


def test_should_fail_a_kind_without_any_schema() -> None:
    widget = Manifest({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
                      origin="extra.yaml", line=3)
    finding = _only(validate_manifests([widget], ["1.31"], "staging"))
    assert finding.rule == UNKNOWN_KIND_RULE
    assert finding.resource == "Widget/w"
    assert (finding.file, finding.line) == ("extra.yaml", 3)


def test_should_not_borrow_a_built_in_schema_for_a_look_alike_group() -> None:
    # apps.example.com/v1 Deployment must not be validated as apps/v1 Deployment.
    lookalike = Manifest({"apiVersion": "apps.example.com/v1", "kind": "Deployment",
                          "metadata": {"name": "d"}})
    assert _only(validate_manifests([lookalike], ["1.31"], "staging")).rule == UNKNOWN_KIND_RULE


def test_should_reject_a_kubernetes_version_without_bundled_schemas() -> None:
    with pytest.raises(InputError, match="no bundled schemas for Kubernetes 1.99"):
        kubeschema.validator_for("Pod", "v1", "1.99")


def test_should_build_each_validator_once(render_env: RenderEnv) -> None:
    render = render_env("production")
    kubeschema._document_problems.cache_clear()
    validate_manifests(render.manifests, KUBE_VERSIONS, "production")
    before = kubeschema.validator_for.cache_info()
    kubeschema._document_problems.cache_clear()
    validate_manifests(render.manifests, KUBE_VERSIONS, "production")
    after = kubeschema.validator_for.cache_info()
    assert after.misses == before.misses
    assert after.hits - before.hits == len(render.manifests) * len(KUBE_VERSIONS)


def test_should_validate_a_repeated_document_once(render_env: RenderEnv) -> None:
    """Objects that are the same in every environment are validated once per run, not once per environment."""
    render = render_env("staging")
    kubeschema._document_problems.cache_clear()
    validate_manifests(render.manifests, KUBE_VERSIONS, "staging")
    validate_manifests(render.manifests, KUBE_VERSIONS, "staging")
    info = kubeschema._document_problems.cache_info()
    assert info.misses == len(render.manifests) and info.hits == len(render.manifests)


def test_should_close_every_crd_object_that_lists_its_properties() -> None:
    closed = kubeschema.close_objects({
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    })
    assert closed["additionalProperties"] is False
    assert closed["properties"]["a"]["additionalProperties"] is False
    assert "additionalProperties" not in closed["properties"]["free"]
    assert closed["properties"]["map"]["additionalProperties"] == {"type": "string"}


def test_should_catch_a_typo_inside_a_passthrough_value_after_rendering(
    render_overlay: Callable[..., Render],
) -> None:
    # securityContext is passed through to the pod unchecked by values.schema.json; the strict
    # Kubernetes schema is what rejects a misspelt field inside it.
    render = render_overlay("staging", {"securityContext": {"runAsNonroot": True}})
    findings = validate_manifests([render.manifests.get("Deployment")], KUBE_VERSIONS[:1], "staging")
    assert _only(findings).field == "spec.template.spec.containers[0].securityContext.runAsNonroot"


@pytest.mark.parametrize(("text", "resource", "field", "line"), [
    ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app: web\n"
     "    app.kubernetes.io/name: 5\nspec:\n  ports:\n    - port: 80\n",
     "Service/web", 'metadata.labels["app.kubernetes.io/name"]', 7),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n"
     "      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n      annotations:\n"
     "        prometheus.io/scrape: true\n    spec:\n      containers:\n        - name: app\n          image: a\n",
     "Deployment/web", 'spec.template.metadata.annotations["prometheus.io/scrape"]', 14),
], ids=["service-label", "pod-template-annotation"])
def test_should_point_at_the_line_of_a_key_with_dots_in_it(
    tmp_path: Path, text: str, resource: str, field: str, line: int
) -> None:
    manifests = parse_manifests(text, origin=tmp_path / "extra.yaml")
    finding = _only(validate_manifests(manifests, ["1.31"], "staging"))
    assert (finding.rule, finding.resource, finding.field, finding.file, finding.line) == (
        RULE, resource, field, str(tmp_path / "extra.yaml"), line)
