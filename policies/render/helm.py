"""The one place that runs helm.

The binary comes from $HELM (or $HELM3 for the Helm 3 parity checks), else
from the pinned copy that scripts/bootstrap_helm.py puts in .tools/. Every call
has a timeout; a failure carries helm's stderr and the command that was run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from policies import REPO_ROOT
from policies.core.errors import InputError

MINIMUM_VERSION = (3, 14, 0)
PINNED = {"HELM": "v4.1.4", "HELM3": "v3.17.3"}
DEFAULT_TIMEOUT_SECONDS = 120.0
# Render for a fixed cluster version: Helm 4 defaults to 1.35 and Helm 3 to
# 1.32, and .Capabilities must not depend on which helm ran.
DEFAULT_KUBE_VERSION = "1.31.0"
# helm's cache/config/data folders stay inside the git-ignored tools folder, not the user's home.
HELM_HOME = REPO_ROOT / ".tools" / "helm-home"
# Versions helm reported, by binary (path, size, modification time, inode): a binary that has not
# changed is not asked again, which saves a helm process per check (hashing the 60 MB binary would
# cost more than asking it).
VERSION_CACHE = HELM_HOME / "versions.json"
TIMEOUT_BINARY = shutil.which("timeout")
TIMED_OUT = {124, 137}  # coreutils timeout: limit reached; killed after --kill-after


class HelmError(InputError):
    """helm failed, hung, or is not usable; carries the command and helm's stderr."""


@dataclass(frozen=True)
class HelmResult:
    stdout: str
    stderr: str
    seconds: float
    command: str


@dataclass(frozen=True)
class Helm:
    path: Path
    version: tuple[int, int, int]
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # The test fixtures run helm through the `sh` library (the project's mission asks for it); the check's
    # hot path uses a plain subprocess, which costs less per call (scripts/benchmark.py measures both).
    through_sh: bool = field(default=False, compare=False)

    def with_timeout(self, seconds: float) -> Helm:
        return dataclasses.replace(self, timeout=seconds)

    def via_sh(self) -> Helm:
        """A copy that runs helm through the `sh` library."""
        return dataclasses.replace(self, through_sh=True)

    @property
    def version_text(self) -> str:
        return "v" + ".".join(map(str, self.version))

    def run(self, *args: str, timeout: float | None = None, cwd: Path | None = None) -> HelmResult:
        timeout = timeout or self.timeout
        command = shlex.join([str(self.path), *args])
        env = {**os.environ, **{f"HELM_{kind.upper()}_HOME": str(HELM_HOME / kind) for kind in ("cache", "config",
                                                                                                "data")}}
        call = self._run_sh if self.through_sh else self._run_subprocess
        started = time.perf_counter()
        stdout, stderr, code = call(args, timeout, cwd or REPO_ROOT, env)
        seconds = time.perf_counter() - started
        if code is None or (TIMEOUT_BINARY and self.through_sh and code in TIMED_OUT):
            raise HelmError(f"helm did not finish within {timeout:g} s: {_in_repo(command)}")
        if code != 0:
            raise _failure(code, stdout, stderr, command)
        return HelmResult(stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), seconds, command)

    def _run_subprocess(self, args: tuple[str, ...], timeout: float, cwd: Path, env: dict[str, str]
                        ) -> tuple[bytes, bytes, int | None]:
        """(stdout, stderr, exit code), exit code None when helm ran out of time (it is killed)."""
        try:
            done = subprocess.run([str(self.path), *args], capture_output=True, cwd=cwd, env=env, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            return b"", b"", None
        return done.stdout, done.stderr, done.returncode

    def _run_sh(self, args: tuple[str, ...], timeout: float, cwd: Path, env: dict[str, str]
                ) -> tuple[bytes, bytes, int | None]:
        import sh

        if TIMEOUT_BINARY:
            # coreutils `timeout` enforces the limit: sh's own _timeout watches from a thread that
            # wakes every 0.1 s, which would add up to 0.1 s to every (timed) helm call.
            helm = sh.Command(TIMEOUT_BINARY).bake("--kill-after=5", f"{timeout:g}", str(self.path))
            limit: dict[str, float] = {}
        else:
            helm, limit = sh.Command(str(self.path)), {"_timeout": timeout}
        try:
            # Pipes, not sh's default pseudo-terminal: helm's output is data, not a screen.
            proc = helm(*args, _cwd=str(cwd), _env=env, _return_cmd=True, _tty_out=False, **limit)
        except sh.TimeoutException:
            return b"", b"", None
        except sh.ErrorReturnCode as exc:
            return exc.stdout, exc.stderr, exc.exit_code
        return proc.stdout, proc.stderr, 0


def _failure(code: int, stdout: bytes, stderr_bytes: bytes, command: str) -> HelmError:
    stderr = stderr_bytes.decode("utf-8", "replace").strip()
    # helm lint writes what is wrong to stdout ([ERROR] ... lines) and only a count to stderr.
    reported: list[str] = []
    for line in stdout.decode("utf-8", "replace").splitlines():
        if line.startswith(("[ERROR]", "[WARNING]")):
            reported.append(line.strip())
        elif reported and line.startswith(" ") and line.strip():  # a message's continuation lines
            reported[-1] += " " + line.strip()
    # One line, as every input error is: helm's own lines joined, its advice about its own flags dropped.
    said = [line.strip().removeprefix("Error: ") for line in [*reported, *stderr.splitlines()]
            if line.strip() and not line.startswith(HELM_OWN_ADVICE)]
    return HelmError(_in_repo(f"helm failed (exit {code}): {command}: {'; '.join(said)}"))


# helm's hints about its own command line, which the check's user does not type.
HELM_OWN_ADVICE = ("Use --debug flag",)


def _in_repo(text: str) -> str:
    """Paths inside the repository shown relative to it, as every report shows them (policies/core/paths.py)."""
    return text.replace(f"{REPO_ROOT}/", "")


def _parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _default_path(variable: str) -> Path:
    return REPO_ROOT / ".tools" / "helm" / PINNED[variable] / "helm"


@cache
def find_helm(variable: str = "HELM") -> Helm:
    """Locate and check a helm binary: $variable if set, else the pinned bootstrap copy."""
    configured = os.environ.get(variable)
    path = Path(configured) if configured else _default_path(variable)
    hint = f"set {variable} to a helm >= 3.14 or run `make setup` to fetch the pinned helm {PINNED[variable]}"
    if not path.exists():
        raise HelmError(f"helm not found at {path} ({'from $' + variable if configured else 'pinned copy'}); {hint}")
    if not os.access(path, os.X_OK) or path.is_dir():
        raise HelmError(f"helm at {path} is not executable; {hint}")
    identity = binary_identity(path)
    out = _known_versions().get(identity) or _ask_version(path, hint)
    version = _parse_version(str(out))
    if version is None:
        raise HelmError(f"helm at {path} reported an unreadable version {str(out)!r}; {hint}")
    if version < MINIMUM_VERSION:
        found = ".".join(map(str, version))
        raise HelmError(f"helm at {path} is v{found}; this harness needs helm >= 3.14.0; {hint}")
    _remember_version(identity, str(out))
    return Helm(path=path, version=version)


def _ask_version(path: Path, hint: str) -> str:
    import sh

    try:
        return str(sh.Command(str(path))("version", "--template", "{{.Version}}", _timeout=30))
    except sh.TimeoutException:
        raise HelmError(f"helm did not finish within 30 s: {path} version") from None
    except (sh.ErrorReturnCode, OSError) as exc:
        raise HelmError(f"helm at {path} cannot report its version ({exc.__class__.__name__}); {hint}") from None


def binary_identity(path: Path) -> str:
    resolved = path.resolve()
    status = resolved.stat()
    return f"{resolved}|{status.st_size}|{status.st_mtime_ns}|{status.st_ino}"


def _known_versions() -> dict[str, str]:
    try:
        known = json.loads(VERSION_CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or an unreadable one: ask helm
    return known if isinstance(known, dict) else {}


def _remember_version(identity: str, text: str) -> None:
    known = _known_versions()
    if known.get(identity) == text:
        return
    with suppress(OSError):  # a read-only tools folder only costs the next run a `helm version`
        VERSION_CACHE.parent.mkdir(parents=True, exist_ok=True)
        from policies.core.atomic import write_text_atomic  # lazy: only when a new binary is seen

        write_text_atomic(VERSION_CACHE, json.dumps({**known, identity: text}, indent=1, sort_keys=True) + "\n")
