"""Environment drift guard: environments differ from the chart defaults only where drift.yaml allows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from policies.checks.drift import AllowedDrift, check_drift, load_allowed
from policies.cli import main
from policies.core.errors import InputError
from policies.core.paths import display_path
from policies.inputs.yamlsource import load_yaml_file
from policies.render.diffing import Difference
from policies.render.manifests import ManifestIndex
from policies.render.render import Render

DEPLOYMENT = "Deployment/prompted-forge-mcp"
IMAGE_PATH = "spec.template.spec.containers[name=prompted-forge-mcp].image"


@pytest.fixture(scope="module")
def allowed() -> list[AllowedDrift]:
    return load_allowed()


def test_should_accept_the_shipped_environments(
    rendered: Render, base_render: ManifestIndex, allowed: list[AllowedDrift]
) -> None:
    findings = check_drift(rendered.environment, rendered, base_render, allowed)

    assert findings == [], "\n".join(f"{f.resource} {f.field}: {f.expected} -> {f.actual}" for f in findings)


def test_should_fail_when_only_production_points_at_another_image_repository(
    render_overlay: Callable[..., Render], base_render: ManifestIndex, allowed: list[AllowedDrift], tmp_path: Path
) -> None:
    render = render_overlay("production", {"image": {"repository": "ghcr.io/someone-else/mcp-server"}})

    findings = check_drift("production", render, base_render, allowed)

    assert [(f.rule, f.environment, f.resource, f.field, f.file, f.line) for f in findings] == [
        ("drift.unexpected", "production", DEPLOYMENT, IMAGE_PATH, display_path(tmp_path / "overlay-production.yaml"),
         2)
    ]
    assert findings[0].expected.startswith('"ghcr.io/prompted-forge/mcp-server:')
    assert findings[0].actual.startswith('"ghcr.io/someone-else/mcp-server:')
    assert findings[0].fails


def test_should_report_a_tag_once_with_the_version_labels_as_its_consequence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "tag.yaml"
    overlay.write_text("# a release candidate\nimage: {tag: 1.0.1-rc.1}\n", encoding="utf-8")

    code = main(["check", "--env", "staging", "--values", str(overlay), "--format", "json", "--timing-runs", "0",
                 "--mode", "enforce"])

    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert [(f["rule"], f["resource"], f["field"], f["file"], f["line"], f["column"]) for f in findings] == [
        ("drift.unexpected", DEPLOYMENT, IMAGE_PATH, display_path(overlay), 2, None)]
    version = '["app.kubernetes.io/version"]'
    assert findings[0]["affects"] == [
        f"ConfigMap/prompted-forge-mcp metadata.labels{version}",
        f"ConfigMap/prompted-forge-mcp-dashboard metadata.labels{version}",
        f"{DEPLOYMENT} metadata.labels{version}",
        f"{DEPLOYMENT} spec.template.metadata.labels{version}",
        f"{DEPLOYMENT} {IMAGE_PATH}",
        f"NetworkPolicy/prompted-forge-mcp metadata.labels{version}",
        f"Service/prompted-forge-mcp metadata.labels{version}",
        f"ServiceAccount/prompted-forge-mcp metadata.labels{version}",
    ]
    assert findings[0]["message"].endswith(
        "; the value behind it is image.tag; the same value also changes the app.kubernetes.io/version label in "
        "7 places (on ConfigMap/prompted-forge-mcp, ConfigMap/prompted-forge-mcp-dashboard, "
        "Deployment/prompted-forge-mcp, NetworkPolicy/prompted-forge-mcp, Service/prompted-forge-mcp, "
        "ServiceAccount/prompted-forge-mcp)")


def test_should_point_at_the_template_when_no_value_explains_a_difference(
    render_overlay: Callable[..., Render], base_render: ManifestIndex, allowed: list[AllowedDrift]
) -> None:
    render = render_overlay("staging", {"probes": {"readiness": {"periodSeconds": 7}}})

    # Manifests alone (as `--manifests` gives them) carry no values to explain the difference.
    findings = check_drift("staging", render.manifests, base_render, allowed)

    assert [(f.resource, f.file, f.line, f.values_key, f.source) for f in findings] == [
        (DEPLOYMENT, None, None, None, "prompted-forge-mcp/templates/deployment.yaml")]


def test_should_fail_when_an_environment_changes_a_probe_timing(
    render_overlay: Callable[..., Render], base_render: ManifestIndex, allowed: list[AllowedDrift], tmp_path: Path
) -> None:
    render = render_overlay("staging", {"probes": {"readiness": {"periodSeconds": 7}}})

    findings = check_drift("staging", render, base_render, allowed)

    assert [(f.resource, f.field, f.expected, f.actual, f.file, f.line) for f in findings] == [
        ("Deployment/prompted-forge-mcp",
         "spec.template.spec.containers[name=prompted-forge-mcp].readinessProbe.periodSeconds", "5", "7",
         display_path(tmp_path / "overlay-staging.yaml"), 3)
    ]


def test_should_allow_production_to_change_replicas_and_resources(
    render_overlay: Callable[..., Render], base_render: ManifestIndex, allowed: list[AllowedDrift]
) -> None:
    overlay = {
        "autoscaling": {"enabled": False},
        "replicaCount": 4,
        "resources": {"requests": {"cpu": "300m", "memory": "384Mi"},
                      "limits": {"cpu": "1500m", "memory": "2Gi"}},
    }
    render = render_overlay("production", overlay)

    assert render.manifests.get("Deployment").doc["spec"]["replicas"] == 4
    assert check_drift("production", render, base_render, allowed) == []


def test_should_allow_a_whole_object_only_where_declared() -> None:
    hpa = AllowedDrift("HorizontalPodAutoscaler/*", (), (), (), "autoscaling")
    replicas = AllowedDrift("Deployment/*", ("spec.replicas",), (), (), "replicas")

    assert hpa.allows("production", Difference("HorizontalPodAutoscaler/app", ""))
    assert not replicas.allows("production", Difference("Deployment/app", ""))
    assert not hpa.allows("production", Difference("Deployment/app", "spec.replicas"))


def test_should_allow_the_subtree_of_a_path_but_not_its_neighbours() -> None:
    entry = AllowedDrift("Deployment/*", ("spec.template.spec.containers[*].resources",), (), (), "budget")
    container = "spec.template.spec.containers[name=x]"

    assert entry.allows("staging", Difference("Deployment/app", f"{container}.resources"))
    assert entry.allows("staging", Difference("Deployment/app", f"{container}.resources.limits.cpu"))
    assert not entry.allows("staging", Difference("Deployment/app", f"{container}.resourcesPolicy"))
    assert not entry.allows("staging", Difference("Deployment/app", f"{container}.image"))


def test_should_limit_an_allowance_to_its_environments() -> None:
    entry = AllowedDrift("PrometheusRule/*", (), (), ("production",), "alerts")

    assert entry.allows("production", Difference("PrometheusRule/app", ""))
    assert not entry.allows("staging", Difference("PrometheusRule/app", ""))


def test_should_declare_a_reason_and_existing_values_keys_for_every_allowance(
    allowed: list[AllowedDrift], chart_dir: Path
) -> None:
    values = load_yaml_file(chart_dir / "values.yaml")
    missing = [(entry.line, key) for entry in allowed for key in entry.values
               if not values.defines(tuple(key.split(".")))]

    assert all(entry.reason for entry in allowed)
    assert missing == [], f"policies/drift.yaml names values keys that values.yaml lacks: {missing}"


def test_should_reject_an_allowance_without_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "drift.yaml"
    path.write_text("allowed:\n  - resource: Deployment/*\n    paths: [spec.replicas]\n")

    with pytest.raises(InputError, match="reason") as raised:
        load_allowed(path)

    assert (raised.value.file, raised.value.line, raised.value.key) == (str(path), 2, "allowed[0].reason")


def test_should_reject_an_unknown_key_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "drift.yaml"
    path.write_text("allowed:\n  - resource: Deployment/*\n    reason: r\n    path: spec.replicas\n")

    with pytest.raises(InputError, match="expected one of") as raised:
        load_allowed(path)

    assert (raised.value.line, raised.value.key) == (4, "allowed[0].path")


def test_should_reject_a_resource_that_is_not_kind_and_name(tmp_path: Path) -> None:
    path = tmp_path / "drift.yaml"
    path.write_text("allowed:\n  - resource: Deployment\n    reason: r\n")

    with pytest.raises(InputError, match="Kind/name"):
        load_allowed(path)
