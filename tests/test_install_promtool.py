"""scripts/install_promtool.sh: nothing to do when promtool is on PATH, a clean skip where it cannot install,
no service started where it does.

Each case runs the real script with PATH reduced to a temporary directory of the tools that case allows.
The real install (apt-get as root) runs in `make setup` and `.ci/run`; here a recording apt-get stands in
for it, because installing changes the machine, and POLICY_RC_D moves the policy file into the test's
directory.
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


def installing_tools(tmp_path: Path, promtool: str) -> dict[str, str]:
    log = tmp_path / "apt-get.log"
    bin_dir = tmp_path / "bin"
    apt_get = (
        "#!/bin/sh\n"
        "# Stub, not apt: records its arguments and what policy-rc.d answers for a service start during the\n"
        "# install, then 'installs' promtool by linking the real one.\n"
        f'echo "$*" >> {log}\n'
        'if [ "$1" = install ]; then\n'
        f'  "$POLICY_RC_D" prometheus start; echo "policy-rc.d answered $?" >> {log}\n'
        f"  ln -s {promtool} {bin_dir}/promtool\n"
        "fi\n"
    )
    real = {name: "" for name in ("grep", "cut", "tr", "chmod", "rm", "head", "ln")}
    return {**real, "id": "#!/bin/sh\necho 0\n", "apt-get": apt_get}


def run_as_root(tmp_path: Path, policy: Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (`make promtool`)")
    path = tool_dir(tmp_path, installing_tools(tmp_path, promtool))
    assert BASH
    return subprocess.run([BASH, str(SCRIPT), "2.42.0+ds-*"], env={"PATH": str(path), "POLICY_RC_D": str(policy)},
                          capture_output=True, text=True, check=False, timeout=30)


def test_should_deny_service_starts_during_the_install_and_remove_its_policy_after(tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    done = run_as_root(tmp_path, policy)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "apt-get.log").read_text(encoding="utf-8").splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends prometheus=2.42.0+ds-*",
        "policy-rc.d answered 101",
    ]
    assert not policy.exists()
    assert done.stdout.startswith(f"promtool: installed prometheus=2.42.0+ds-*: {tmp_path / 'bin' / 'promtool'} "
                                  "(promtool, version ")


def test_should_keep_an_existing_policy_rc_d(tmp_path: Path) -> None:
    policy = tmp_path / "policy-rc.d"
    policy.write_text("#!/bin/sh\n# the machine's own\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)
    done = run_as_root(tmp_path, policy)
    assert done.returncode == 0, done.stderr
    assert policy.read_text(encoding="utf-8") == "#!/bin/sh\n# the machine's own\nexit 101\n"
