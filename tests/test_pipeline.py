"""Pipeline figures from CI: judged against the build tiers and SLAs; the image measured from a tarball."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from policies import REPO_ROOT
from policies.checks.pipeline import PipelineMeasurements, judge_measurements, load_measurements
from policies.cli import main
from policies.core.errors import InputError
from policies.inputs.budget import load_budget

MB = 1_000_000


def _load_script():
    spec = importlib.util.spec_from_file_location("measure_image", REPO_ROOT / "scripts" / "measure_image.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


measure_image = _load_script()


def measurements_file(tmp_path: Path, figures: dict, name: str = "measurements.yaml") -> Path:
    path = tmp_path / name
    text = json.dumps(figures) if name.endswith(".json") else "# from CI\n" + yaml.safe_dump(figures)
    path.write_text(text, encoding="utf-8")
    return path


def judged(tmp_path: Path, **figures: float) -> tuple[list, list]:
    return judge_measurements(load_measurements(measurements_file(tmp_path, figures)), load_budget())


# -- judging figures ------------------------------------------------------------------------------------

def test_should_fail_an_image_over_the_failure_threshold_naming_the_tier(tmp_path):
    [row], [finding] = judged(tmp_path, imageSizeBytes=210 * MB)
    assert (row.name, row.value, row.unit, row.limit, row.status) == ("image size", 210, "MB", 200, "failure")
    assert finding.rule == "pipeline.image-size" and finding.severity.value == "failure"
    assert "image size 210 MB is over the failure threshold 200 MB" in finding.message
    assert finding.file.endswith("measurements.yaml") and finding.line == 2


def test_should_warn_for_an_image_over_the_warning_threshold_and_mention_the_target(tmp_path):
    [row], [finding] = judged(tmp_path, imageSizeBytes=130 * MB)
    assert row.status == "warning" and finding.severity.value == "warning"
    assert "over the warning threshold 120 MB (failure threshold 200 MB, target 150 MB)" in finding.message


@pytest.mark.parametrize(("seconds", "status"), [(60, "ok"), (95, "warning"), (130, "warning"), (181, "failure")])
def test_should_judge_the_docker_build_by_its_tiers(tmp_path, seconds, status):
    [row], findings = judged(tmp_path, dockerBuildSeconds=seconds)
    assert row.status == status
    assert [f.severity.value for f in findings] == ([] if status == "ok" else [status])


@pytest.mark.parametrize(("key", "limit"), [("buildPushSeconds", 180), ("helmValidationSeconds", 30),
                                            ("artifactUploadSeconds", 30), ("totalPipelineSeconds", 300)])
def test_should_hold_each_stage_to_its_sla(tmp_path, key, limit):
    assert judged(tmp_path, **{key: limit})[1] == []
    [finding] = judged(tmp_path, **{key: limit + 1})[1]
    assert finding.severity.value == "failure" and f"over the SLA {limit} s" in finding.message


@pytest.mark.parametrize(("seconds", "severity", "tier"), [(12, "warning", "boot target 10 s"),
                                                           (16, "failure", "readiness alert line 15 s")])
def test_should_judge_container_boot_against_target_and_alert_line(tmp_path, seconds, severity, tier):
    [finding] = judged(tmp_path, containerBootSeconds=seconds)[1]
    assert finding.rule == "pipeline.container-boot" and finding.severity.value == severity
    assert tier in finding.message


def test_should_pass_figures_within_budget(tmp_path):
    rows, findings = judged(tmp_path, dockerBuildSeconds=70, imageSizeBytes=95 * MB, buildPushSeconds=150,
                            helmValidationSeconds=8, artifactUploadSeconds=5, totalPipelineSeconds=240,
                            containerBootSeconds=6)
    assert findings == [] and len(rows) == 7 and {r.status for r in rows} == {"ok"}


@pytest.mark.parametrize(("mode", "code"), [("enforce", 1), ("warn", 0)])
def test_should_fail_check_for_an_over_budget_image_only_in_enforce_mode(tmp_path, capsys, mode, code):
    path = measurements_file(tmp_path, {"imageSizeBytes": 210 * MB, "commit": "abc123"}, "measurements.json")
    result = main(["check", "--env", "development", "--timing-runs", "0", "--mode", mode,
                   "--measurements", str(path)])
    out = capsys.readouterr().out
    assert result == code
    assert "[pipeline.image-size] image size 210 MB is over the failure threshold 200 MB" in out
    assert "image size" in out.split("Findings")[0]  # the measurements table


# -- bad measurements files -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ("dockerBuildSeconds: 80\nimageSizeMegabytes: 100\n", 2, "imageSizeMegabytes", "imageSizeBytes"),
    ("dockerBuildSeconds: 80\nimageSizeBytes: big\n", 2, "imageSizeBytes", "not of type 'integer'"),
    ("totalPipelineSeconds: -3\n", 1, "totalPipelineSeconds", "minimum"),
])
def test_should_reject_a_bad_measurements_file_with_file_line_and_key(tmp_path, text, line, key, words):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=words) as caught:
        load_measurements(path)
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(path), line, key)


def test_should_exit_2_for_a_malformed_measurements_file(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text("imageSizeBytes: 1\n  dockerBuildSeconds: [\n", encoding="utf-8")
    code = main(["check", "--env", "development", "--timing-runs", "0", "--measurements", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:2" in err and "Traceback" not in err


def test_should_keep_only_numeric_figures(tmp_path):
    loaded = load_measurements(measurements_file(tmp_path, {"runner": "ubuntu-latest", "totalPipelineSeconds": 200}))
    assert isinstance(loaded, PipelineMeasurements) and loaded.figures == {"totalPipelineSeconds": 200}


# -- measuring the image --------------------------------------------------------------------------------

def tar_bytes(files: dict[str, bytes], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        directory = tarfile.TarInfo("app")
        directory.type = tarfile.DIRTYPE
        archive.addfile(directory)
    raw = buffer.getvalue()
    return gzip.compress(raw) if compress else raw


def write_tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def docker_save_tarball(path: Path) -> Path:
    """What `docker save` writes: manifest.json naming one uncompressed tar per layer."""
    return write_tarball(path, {
        "manifest.json": json.dumps([{"Config": "config.json", "RepoTags": ["pf:1"],
                                      "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]).encode(),
        "config.json": b"{}",
        "aaa/layer.tar": tar_bytes({"app/server.js": b"x" * 1200, "app/package.json": b"{}" * 50}),
        "bbb/layer.tar": tar_bytes({"app/node_modules/a.js": b"y" * 700}),
    })


def oci_tarball(path: Path) -> Path:
    """An OCI image layout: index.json -> manifest blob -> gzip-compressed layer blobs."""
    layer = tar_bytes({"bin/node": b"n" * 4096, "etc/os-release": b"alpine"}, compress=True)
    layer_digest = hashlib.sha256(layer).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "layers": [{"digest": f"sha256:{layer_digest}", "size": len(layer)}]}).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    index = {"schemaVersion": 2, "manifests": [
        {"digest": f"sha256:{manifest_digest}", "platform": {"architecture": "amd64", "os": "linux"}}]}
    return write_tarball(path, {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
                                "index.json": json.dumps(index).encode(),
                                f"blobs/sha256/{manifest_digest}": manifest,
                                f"blobs/sha256/{layer_digest}": layer})


def test_should_sum_the_file_sizes_of_every_layer_of_a_docker_save_tarball(tmp_path):
    assert measure_image.size_from_tarball(docker_save_tarball(tmp_path / "image.tar")) == 1200 + 100 + 700


def test_should_read_uncompressed_sizes_from_an_oci_layout_tarball(tmp_path):
    assert measure_image.size_from_tarball(oci_tarball(tmp_path / "oci.tar")) == 4096 + 6


def test_should_merge_the_size_into_an_existing_measurements_file(tmp_path, capsys):
    output = measurements_file(tmp_path, {"dockerBuildSeconds": 75})
    assert measure_image.main([str(docker_save_tarball(tmp_path / "image.tar")), "--output", str(output)]) == 0
    assert "imageSizeBytes: 2000" in capsys.readouterr().out
    assert load_measurements(output).figures == {"dockerBuildSeconds": 75, "imageSizeBytes": 2000}


def test_should_say_a_tarball_without_an_image_manifest_is_not_an_image(tmp_path, capsys):
    path = write_tarball(tmp_path / "not-an-image.tar", {"README": b"hello"})
    assert measure_image.main([str(path)]) == 2
    assert "neither manifest.json (docker save) nor index.json (OCI layout)" in capsys.readouterr().err


def test_should_say_clearly_when_neither_a_daemon_nor_a_tarball_is_available(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert measure_image.main(["ghcr.io/prompted-forge/mcp-server:1.0.0"]) == 2
    err = capsys.readouterr().err
    assert "not a tarball path, and no Docker daemon answers (no docker command on PATH)" in err
    assert "docker save" in err


def test_should_ask_the_docker_daemon_for_an_image_reference(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "docker"
    fake.write_text('#!/bin/sh\nif [ "$1" = version ]; then echo 27.0.1; else echo 123456789; fi\n',
                    encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert measure_image.main(["ghcr.io/prompted-forge/mcp-server:1.0.0"]) == 0
    assert "imageSizeBytes: 123456789  (123.5 MB)" in capsys.readouterr().out
