"""Golden renders: every environment renders exactly what tests/snapshots/<env>.yaml records."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from snapshotkit import (
    CHECKSUM_PLACEHOLDER,
    VOLATILE_LABELS,
    compare_snapshot,
    create_missing,
    load_snapshot,
    normalize,
    snapshot_path,
    summarize,
    update_requested,
    write_snapshot,
)

from policies.core.errors import InputError
from policies.render.diffing import ABSENT
from policies.render.helm import Helm
from policies.render.helmcalls import RenderSettings
from policies.render.manifests import parse_manifests
from policies.render.render import Render, render_environment


def test_should_match_the_golden_render(rendered: Render) -> None:
    environment = rendered.environment
    if update_requested():
        path = write_snapshot(environment, rendered.manifests)
        pytest.skip(f"golden render rewritten: {path}")
    created = create_missing(environment, rendered.manifests)
    if created:
        pytest.skip(f"golden render created: {created}; review and commit it")

    differences = compare_snapshot(environment, rendered.manifests)

    assert not differences, (
        f"{environment} renders differently from {snapshot_path(environment)} (old -> new):\n"
        f"{summarize(differences)}\nIf the change is intended, run `make snapshots` and commit the diff."
    )


def test_should_fail_naming_resource_and_path_when_a_template_label_changes(
    tmp_path: Path, chart_dir: Path, helm: Helm
) -> None:
    environment = "production"
    chart = shutil.copytree(chart_dir, tmp_path / "chart")
    original = render_environment(environment, RenderSettings(chart=chart), helm=helm)
    write_snapshot(environment, original.manifests, tmp_path / "snapshots")
    template = chart / "templates" / "service.yaml"
    labels = '{{- include "prompted-forge-mcp.labels" . | nindent 4 }}'
    template.write_text(template.read_text().replace(labels, labels + "\n    tier: edge", 1))
    edited = render_environment(environment, RenderSettings(chart=chart), helm=helm)

    differences = compare_snapshot(environment, edited.manifests, tmp_path / "snapshots")

    assert [(d.resource, d.path, d.old, d.new) for d in differences] == [
        ("Service/prompted-forge-mcp", "metadata.labels.tier", ABSENT, "edge")
    ]
    assert str(differences[0]) == 'Service/prompted-forge-mcp metadata.labels.tier: (absent) -> "edge"'
    # `make snapshots` accepts the change: rewritten, the golden render matches again.
    write_snapshot(environment, edited.manifests, tmp_path / "snapshots")
    assert compare_snapshot(environment, edited.manifests, tmp_path / "snapshots") == []


def test_should_replace_volatile_fields_with_placeholders(rendered: Render) -> None:
    deployment = normalize(rendered.manifests)["Deployment/prompted-forge-mcp"]

    for labels in (deployment["metadata"]["labels"], deployment["spec"]["template"]["metadata"]["labels"]):
        assert {key: labels[key] for key in VOLATILE_LABELS} == VOLATILE_LABELS
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/config"] == CHECKSUM_PLACEHOLDER
    # The image reference is what runs: it is never normalized.
    assert ":" in deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def test_should_not_hide_a_removed_checksum_annotation(tmp_path: Path, rendered: Render) -> None:
    write_snapshot(rendered.environment, rendered.manifests, tmp_path)
    edited = parse_manifests(rendered.text.replace("checksum/config:", "other/config:"))

    paths = [d.path for d in compare_snapshot(rendered.environment, edited, tmp_path)]

    assert 'spec.template.metadata.annotations["checksum/config"]' in paths


def test_should_round_trip_a_golden_render_exactly(tmp_path: Path, rendered: Render) -> None:
    path = write_snapshot(rendered.environment, rendered.manifests, tmp_path)

    assert load_snapshot(path) == normalize(rendered.manifests)
    by_kind_then_name = sorted(rendered.manifests.refs(), key=lambda ref: tuple(ref.split("/", 1)))
    assert list(load_snapshot(path)) == by_kind_then_name


def test_should_fail_instead_of_creating_a_missing_golden_render_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: Render
) -> None:
    monkeypatch.setenv("CI", "true")

    with pytest.raises(InputError, match="make snapshots") as raised:
        create_missing(rendered.environment, rendered.manifests, tmp_path)

    assert raised.value.file == str(snapshot_path(rendered.environment, tmp_path))
    assert not snapshot_path(rendered.environment, tmp_path).exists()


def test_should_create_a_missing_golden_render_outside_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: Render
) -> None:
    monkeypatch.delenv("CI", raising=False)

    created = create_missing(rendered.environment, rendered.manifests, tmp_path)

    assert created == snapshot_path(rendered.environment, tmp_path)
    assert load_snapshot(created) == normalize(rendered.manifests)
    assert create_missing(rendered.environment, rendered.manifests, tmp_path) is None


def test_should_name_the_line_of_a_malformed_golden_render(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("kind: Service\nmetadata: {name: [\n")

    with pytest.raises(InputError, match="make snapshots") as raised:
        load_snapshot(path)

    assert raised.value.file == str(path)
    assert raised.value.line is not None
