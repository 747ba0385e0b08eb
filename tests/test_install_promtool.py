"""scripts/install_promtool.sh: nothing to do when promtool is on PATH, a clean skip where it cannot install.

Each case runs the real script with PATH reduced to a temporary directory of the tools that case allows.
The installing path itself (apt-get as root) is exercised by `make setup` and `.ci/run`, not here: it
changes the machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from policies import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "install_promtool.sh"
BASH = shutil.which("bash")


def tool_dir(tmp_path: Path, tools: dict[str, str]) -> Path:
    """A PATH directory holding links to the named real tools, or the given stub scripts (text)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name, stub in tools.items():
        target = directory / name
        if stub:
            target.write_text(stub, encoding="utf-8")
            target.chmod(0o755)
        else:
            real = shutil.which(name)
            assert real, f"{name} is needed to run this test"
            target.symlink_to(real)
    return directory


def run_script(path: Path) -> subprocess.CompletedProcess[str]:
    assert BASH
    return subprocess.run([BASH, str(SCRIPT), "2.42.0+ds-*"], env={"PATH": str(path)}, capture_output=True,
                          text=True, check=False, timeout=30)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (`make promtool`)")
def test_should_only_report_a_promtool_already_on_path(tmp_path: Path) -> None:
    done = run_script(tool_dir(tmp_path, {"promtool": "", "head": ""}))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"promtool: {tmp_path / 'bin' / 'promtool'} (promtool, version ")


def test_should_skip_cleanly_without_apt_get(tmp_path: Path) -> None:
    done = run_script(tool_dir(tmp_path, {}))
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.startswith("promtool: not on PATH and apt-get is not available;")
    assert "the alert rule tests skip without it" in done.stderr


def test_should_skip_cleanly_when_not_root(tmp_path: Path) -> None:
    called = tmp_path / "apt-get-called"
    # Stubs that inject the failure only: `id` says uid 1000; apt-get records that it was run.
    tools = {"id": "#!/bin/sh\necho 1000\n", "apt-get": f"#!/bin/sh\ntouch {called}\n"}
    done = run_script(tool_dir(tmp_path, tools))
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.startswith("promtool: not on PATH; run `sudo make promtool`")
    assert not called.exists(), "apt-get ran without root"
