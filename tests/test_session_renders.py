"""The render cache the xdist workers share: a key for everything that decides helm's output, whole files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sessionrenders import CACHE_FORMAT, CachedRenders, load, render_key, store

from policies import CHART_DIR
from policies.render.helm import Helm
from policies.render.helmcalls import RenderSettings, helm_template_args, values_file_for
from policies.render.render import render_environment


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    copy = tmp_path / CHART_DIR.name
    shutil.copytree(CHART_DIR, copy)
    return copy


def fake_binary(folder: Path, content: bytes) -> Path:
    """Only hashed, never run: the key reads a binary's bytes, whatever it is."""
    folder.mkdir(exist_ok=True)
    path = folder / "helm"
    path.write_bytes(content)
    return path


def template_args(chart: Path, environment: str = "production", kube_version: str = "1.31.0") -> tuple[str, ...]:
    return tuple(helm_template_args([values_file_for(environment, chart)],
                                    RenderSettings(chart=chart, kube_version=kube_version)))


def test_should_give_the_same_key_for_the_same_chart_helm_and_arguments(chart, tmp_path):
    helm = fake_binary(tmp_path / "bin", b"helm 1")
    assert render_key(helm, template_args(chart)) == render_key(helm, template_args(chart))


@pytest.mark.parametrize("edit", [
    "templates/deployment.yaml",   # a template
    "values-production.yaml",      # the environment's values file (named in the arguments too)
    "values.yaml",                 # the defaults, named by no argument
    "Chart.yaml",
], ids=lambda path: f"file={path}")
def test_should_change_the_key_when_one_byte_of_a_chart_file_changes(chart, tmp_path, edit):
    helm = fake_binary(tmp_path / "bin", b"helm 1")
    before = render_key(helm, template_args(chart))
    path = chart / edit
    path.write_bytes(path.read_bytes() + b" ")
    assert render_key(helm, template_args(chart)) != before


def test_should_change_the_key_when_a_file_is_added_to_the_chart(chart, tmp_path):
    helm = fake_binary(tmp_path / "bin", b"helm 1")
    before = render_key(helm, template_args(chart))
    (chart / "templates" / "NOTES.extra.txt").write_text("", encoding="utf-8")
    assert render_key(helm, template_args(chart)) != before


def test_should_change_the_key_when_the_helm_binary_changes(chart, tmp_path):
    args = template_args(chart)
    one, other = fake_binary(tmp_path / "a", b"helm 1"), fake_binary(tmp_path / "b", b"helm 2")
    assert render_key(one, args) != render_key(other, args)
    before = render_key(one, args)
    one.write_bytes(b"helm 1, rebuilt")  # the same path, replaced in place
    assert render_key(one, args) != before


@pytest.mark.parametrize("other", [
    lambda chart: template_args(chart, kube_version="1.32.0"),
    lambda chart: template_args(chart, environment="staging"),
    lambda chart: (*template_args(chart), "--api-versions", "monitoring.coreos.com/v1"),
    lambda chart: (*template_args(chart), "--set", "replicaCount=3"),
], ids=["kube-version", "values-file", "extra-flag", "set-value"])
def test_should_change_the_key_when_an_argument_changes(chart, tmp_path, other):
    helm = fake_binary(tmp_path / "bin", b"helm 1")
    assert render_key(helm, other(chart)) != render_key(helm, template_args(chart))


def test_should_change_the_key_when_an_extra_values_file_s_content_changes(chart, tmp_path):
    helm = fake_binary(tmp_path / "bin", b"helm 1")
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("replicaCount: 2\n", encoding="utf-8")
    args = (*template_args(chart), "--values", str(overlay))
    before = render_key(helm, args)
    overlay.write_text("replicaCount: 3\n", encoding="utf-8")
    assert render_key(helm, args) != before


def test_should_change_the_key_when_a_relative_values_file_s_content_changes(chart, tmp_path):
    # A check given `--values overlay.yaml` passes the name as it is; helm reads it from the folder it runs in.
    helm = fake_binary(tmp_path / "bin", b"helm 1")
    (tmp_path / "overlay.yaml").write_text("replicaCount: 2\n", encoding="utf-8")
    args = (*template_args(chart), "--values", "overlay.yaml")
    before = render_key(helm, args, cwd=tmp_path)
    (tmp_path / "overlay.yaml").write_text("replicaCount: 3\n", encoding="utf-8")
    assert render_key(helm, args, cwd=tmp_path) != before


def test_should_answer_a_repeated_render_from_the_cache_exactly_as_a_fresh_render(helm: Helm, tmp_path):
    cached = CachedRenders(helm, tmp_path / "renders")
    first = render_environment("production", helm=cached)
    [entry] = list((tmp_path / "renders").iterdir())
    again = render_environment("production", helm=cached)
    fresh = render_environment("production", helm=helm)
    assert list((tmp_path / "renders").iterdir()) == [entry]  # the second render was a hit
    assert again.text == first.text == fresh.text
    assert [m.doc for m in again.manifests] == [m.doc for m in fresh.manifests]
    assert again.command == fresh.command and again.helm_version == fresh.helm_version


def test_should_read_what_the_cache_holds_not_run_helm_on_a_hit(helm: Helm, tmp_path):
    cached = CachedRenders(helm, tmp_path)
    args = template_args(CHART_DIR)
    key = render_key(helm.path, args)
    (tmp_path / f"{key}.json").write_text(json.dumps({"format": CACHE_FORMAT, "stdout": "kind: Marker\n",
                                                      "stderr": "", "seconds": 0.5}), encoding="utf-8")
    result = cached.run(*args)
    assert (result.stdout, result.seconds) == ("kind: Marker\n", 0.5)


def test_should_give_the_race_s_loser_the_winner_s_entry(tmp_path):
    path = tmp_path / "key.json"
    winner = {"format": CACHE_FORMAT, "stdout": "winner", "stderr": "", "seconds": 1.0}
    assert store(path, winner) == winner
    loser = {**winner, "stdout": "loser"}
    assert store(path, loser) == winner
    assert load(path) == winner
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]  # no temporary file left behind


def test_should_ignore_an_entry_of_another_format_or_a_damaged_one(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"format": CACHE_FORMAT - 1, "stdout": "x"}), encoding="utf-8")
    (tmp_path / "cut.json").write_text('{"format": 1, "stdo', encoding="utf-8")
    assert load(tmp_path / "old.json") is None and load(tmp_path / "cut.json") is None


def test_should_pass_anything_but_template_to_helm_itself(helm: Helm, tmp_path):
    cached = CachedRenders(helm, tmp_path)
    assert cached.run("version", "--template", "{{.Version}}").stdout == helm.version_text
    assert cached.version_text == helm.version_text
    assert list(tmp_path.iterdir()) == []
