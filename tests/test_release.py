"""`make release`: dist/ as a Helm chart repository (the packaged chart and its index.yaml),
written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from policies import CHART_DIR, REPO_ROOT


def make_release(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", "release", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_should_write_the_package_and_an_index_that_describes_it(tmp_path: Path):
    dist = tmp_path / "dist"
    result = make_release(f"DIST={dist}", "CHART_REPO_URL=https://charts.example.com/forge")
    assert result.returncode == 0, result.stderr
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))
    package = f"{chart['name']}-{chart['version']}.tgz"
    assert sorted(p.name for p in dist.iterdir()) == sorted([package, "index.yaml"])
    index = yaml.safe_load((dist / "index.yaml").read_text(encoding="utf-8"))
    [entry] = index["entries"][chart["name"]]
    assert (entry["version"], entry["appVersion"]) == (chart["version"], chart["appVersion"])
    assert entry["digest"] == hashlib.sha256((dist / package).read_bytes()).hexdigest()
    assert entry["urls"] == [f"https://charts.example.com/forge/{package}"]
    assert not list(tmp_path.glob("dist.tmp.*")), "the staging folder is gone"


def test_should_leave_the_previous_dist_untouched_when_packaging_fails(tmp_path: Path):
    broken = tmp_path / "chart"
    shutil.copytree(CHART_DIR, broken)
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: [broken\n", encoding="utf-8")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.yaml").write_text("previous\n", encoding="utf-8")
    result = make_release(f"DIST={dist}", f"CHART={broken}")
    assert result.returncode != 0
    assert [p.name for p in dist.iterdir()] == ["index.yaml"]
    assert (dist / "index.yaml").read_text(encoding="utf-8") == "previous\n"
    assert not list(tmp_path.glob("dist.tmp.*"))
