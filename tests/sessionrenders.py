"""`helm template` output shared between pytest-xdist workers through files keyed by all that decides it.

Each worker has its own session, so the session-scoped renders (one per environment) would run
once per worker. The first worker to render writes helm's output under the key; the others read
it. The key is everything the output depends on: the helm binary's sha256, the full argument list,
and the content of every file and folder an argument names (the chart: every file under it, by
path and content; values files by content), so an edited template, values file or helm, or another
flag, is a different entry and never a stale one. Only successful renders are stored: a failure
is helm's to report each time.

policies/render/rendercache.py is the check's own cache of the chart-defaults render between runs; this one
serves the test fixtures' environment renders (any `template` call), keys on helm's sha256 rather than
its file identity, and on the content of extra values files too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from policies import REPO_ROOT
from policies.render.helm import Helm, HelmResult

# Raised when what an entry holds or how the key is made changes, so older entries are never read.
CACHE_FORMAT = 1


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _binary_digest(path: Path, size: int, mtime_ns: int, inode: int) -> str:
    return file_digest(path)


def binary_digest(path: Path) -> str:
    """sha256 of the helm binary, hashed once per process while its path, size, modification time
    and inode stay the same (the identity policies/render/helm.py trusts for `helm version`): 60 MB is
    worth hashing once, not once per render."""
    resolved = path.resolve()
    status = resolved.stat()
    return _binary_digest(resolved, status.st_size, status.st_mtime_ns, status.st_ino)


def tree_digest(folder: Path) -> str:
    """sha256 over every file under folder: relative path and content (a rename or a new file counts)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + file_digest(path).encode() + b"\0")
    return digest.hexdigest()


def render_key(helm_binary: Path, args: tuple[str, ...], cwd: Path = REPO_ROOT) -> str:
    """The cache key of `helm_binary *args` run in `cwd` (where Helm.run runs it unless told otherwise): the
    binary's content, the arguments, the content they name. A relative path names what it names from cwd."""
    named: dict[str, str] = {}
    for arg in args:
        if not arg or arg.startswith("-"):
            continue
        path = cwd / arg  # an absolute arg stays as it is
        if path.is_dir():
            named[arg] = "tree:" + tree_digest(path)
        elif path.is_file():
            named[arg] = "file:" + file_digest(path)
    identity = {"format": CACHE_FORMAT, "helm": binary_digest(helm_binary), "args": list(args), "named": named}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def store(path: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Publish entry at path unless another worker did first; return what path holds.

    The entry is written whole to a temporary file and hard-linked into place: a reader never sees a
    half-written file, and a worker that loses the race gets the winner's entry back.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(entry, out)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return load(path) or entry
    finally:
        os.unlink(temporary)
    return entry


def load(path: Path) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and entry.get("format") == CACHE_FORMAT else None


@dataclass(frozen=True)
class CachedRenders:
    """A helm whose `template` calls are answered from the cache folder when the key matches.

    Everything else (lint, package, version, attributes) goes to the wrapped Helm unchanged.
    """

    helm: Helm
    folder: Path

    def __getattr__(self, name: str) -> Any:
        if name in ("helm", "folder"):  # not set yet (copy, pickle): never ask the wrapped helm
            raise AttributeError(name)
        return getattr(self.helm, name)

    def run(self, *args: str, timeout: float | None = None, cwd: Path | None = None) -> HelmResult:
        if not args or args[0] != "template" or cwd is not None:
            return self.helm.run(*args, timeout=timeout, cwd=cwd)
        path = self.folder / f"{render_key(self.helm.path, args)}.json"
        entry = load(path)
        if entry is None:
            result = self.helm.run(*args, timeout=timeout)
            self.folder.mkdir(parents=True, exist_ok=True)
            entry = store(path, {"format": CACHE_FORMAT, "stdout": result.stdout, "stderr": result.stderr,
                                 "seconds": result.seconds})
        command = shlex.join([str(self.helm.path), *args])
        return HelmResult(entry["stdout"], entry["stderr"], entry["seconds"], command)
