"""scripts/cluster_diff.py (`make diff`): installed release against a fresh render, offline.

A stand-in helm answers `get manifest` / `get hooks` from files, as an installed
release would, and passes every other command to the real helm.
"""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path
from types import ModuleType

import pytest

from policies import CHART_DIR, REPO_ROOT
from policies.render.helm import Helm
from policies.render.helmcalls import values_file_for

RELEASE, NAMESPACE, ENVIRONMENT = "pf-e2e", "forge", "staging"
ARGS = ["--env", ENVIRONMENT, "--release", RELEASE, "--namespace", NAMESPACE, "--api-versions"]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cluster_diff", REPO_ROOT / "scripts" / "cluster_diff.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cluster_diff = load_script()


@pytest.fixture
def installed(tmp_path: Path, helm: Helm) -> tuple[Helm, Path]:
    """A helm whose release `pf-e2e` holds a fresh staging render; edit the returned file to drift it."""
    manifest, hooks = tmp_path / "manifest.yaml", tmp_path / "hooks.yaml"
    values = str(values_file_for(ENVIRONMENT))
    text = helm.run("template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE, "--values", values).stdout
    manifest.write_text(text, encoding="utf-8")
    hooks.write_text("", encoding="utf-8")
    fake = tmp_path / "helm"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1 $2" = "get manifest" ]; then cat {shlex.quote(str(manifest))}; exit 0; fi\n'
        f'if [ "$1 $2" = "get hooks" ]; then cat {shlex.quote(str(hooks))}; exit 0; fi\n'
        f'exec {shlex.quote(str(helm.path))} "$@"\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    return Helm(path=fake, version=helm.version), manifest


def test_should_exit_0_when_the_installed_release_matches_a_fresh_render(
    installed: tuple[Helm, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_helm, _ = installed
    assert cluster_diff.main(ARGS, helm=fake_helm) == 0
    assert f"release {RELEASE} in namespace {NAMESPACE} matches" in capsys.readouterr().out


def test_should_exit_1_and_name_the_field_when_the_installed_release_differs(
    installed: tuple[Helm, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_helm, manifest = installed
    text = manifest.read_text(encoding="utf-8")
    assert "replicas: 2" in text
    manifest.write_text(text.replace("replicas: 2", "replicas: 3"), encoding="utf-8")
    assert cluster_diff.main(ARGS, helm=fake_helm) == 1
    out = capsys.readouterr().out
    assert f"Deployment/{RELEASE}-prompted-forge-mcp['spec']['replicas'] changed from 3 to 2" in out


def test_should_list_objects_only_one_side_has() -> None:
    deployment = cluster_diff.Manifest({"kind": "Deployment", "metadata": {"name": "a"}})
    service = cluster_diff.Manifest({"kind": "Service", "metadata": {"name": "a"}})
    assert cluster_diff.diff_manifests([deployment], [service]) == [
        "Service/a: not installed (install would create it)",
        "Deployment/a: installed but no longer rendered (install would delete it)",
    ]


def test_should_report_an_unknown_environment_as_bad_input_without_a_traceback(
    installed: tuple[Helm, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_helm, _ = installed
    args = ["--env", "qa", "--api-versions"]
    assert cluster_diff.main(args, helm=fake_helm) == 2
    err = capsys.readouterr().err
    assert "values-qa.yaml: environment 'qa' has no values file" in err
    assert "Traceback" not in err
