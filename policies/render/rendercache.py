"""Untimed renders kept between runs, by what decides them: helm, its arguments and every file of the chart.

Only the render of the chart defaults (the drift guard's base) is kept: a checked render is also the
run's `helm template` sample, so it always runs. The key covers the helm binary (path, size, modification
time, inode: policies/render/helm.py), the arguments (chart path, Kubernetes and API versions) and the bytes of
every file under the chart, so any edit renders again; nothing is read back that a render today would not
print. A few of the latest renders are kept; a read-only tools folder only costs the render.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from pathlib import Path

from policies.core.atomic import write_text_atomic
from policies.render.helm import HELM_HOME, Helm, binary_identity

CACHE_DIR = HELM_HOME / "renders"
KEEP = 16  # renders kept (a chart edit or another chart copy adds one); the oldest go first


def chart_digest(chart: Path) -> str:
    """SHA-256 over every file under the chart: its path within the chart and its bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in chart.rglob("*") if p.is_file()):
        digest.update(path.relative_to(chart).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def render_key(helm: Helm, args: list[str] | tuple[str, ...], chart: Path) -> str:
    parts = [binary_identity(helm.path), helm.version_text, *args, chart_digest(chart)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def cached_stdout(helm: Helm, args: list[str] | tuple[str, ...], chart: Path, cache_dir: Path = CACHE_DIR) -> str:
    """helm's stdout for `args` over `chart`: the kept copy when nothing that decides it changed, else a run."""
    path = cache_dir / f"{render_key(helm, args, chart)}.yaml"
    with suppress(OSError):
        return path.read_text(encoding="utf-8")
    stdout = helm.run(*args).stdout
    with suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, stdout)
        _prune(cache_dir)
    return stdout


def _prune(cache_dir: Path) -> None:
    kept = sorted(cache_dir.glob("*.yaml"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        with suppress(OSError):
            old.unlink()
