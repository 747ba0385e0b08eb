"""Chart-version discipline as chart-testing's `ct lint` checks it (check-version-increment):
a chart whose files differ from the merge base with the target branch must raise `version`
in its Chart.yaml.

The target branch is $CHART_VERSION_BASE (a git ref, e.g. `main` for a local run), else
`origin/$GITHUB_BASE_REF` on a pull request, else `origin/main`. Where that ref does not exist
or shares no history with HEAD (a shallow or fresh clone, a local branch without a remote) the
check is skipped with the reason: there is nothing to compare with.

Usage: python scripts/chart_version.py [--charts DIR] [--base REF]
Exit codes: 0 every changed chart raised its version (or skipped), 1 a chart changed without
a higher version, 2 bad input (an unreadable Chart.yaml or a version that is not semver).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.checks.chartmeta import SEMVER, Version  # noqa: E402

PREFIX = "chart-version:"


class Skip(Exception):
    """Nothing to compare with; the reason is printed and the check passes."""


class BadInput(Exception):
    """A Chart.yaml that cannot be read or whose version is not semver."""


@dataclass(frozen=True)
class Outcome:
    changed: str  # charts/<name>
    old: str | None  # None: the chart is new since the merge base
    new: str

    @property
    def ok(self) -> bool:
        return self.old is None or parse_version(self.new, self.changed) > parse_version(self.old, self.changed)


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def target_ref(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("CHART_VERSION_BASE"):
        return os.environ["CHART_VERSION_BASE"]
    if os.environ.get("GITHUB_BASE_REF"):
        return f"origin/{os.environ['GITHUB_BASE_REF']}"
    return "origin/main"


def merge_base(repo: Path, ref: str) -> str:
    if git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise Skip(f"no target branch {ref} here (set CHART_VERSION_BASE=<ref> to compare with another)")
    result = git(repo, "merge-base", "HEAD", ref)
    if result.returncode != 0:
        raise Skip(f"HEAD and {ref} have no merge base (shallow clone or unrelated history)")
    return result.stdout.strip()


def parse_version(text: str, where: str) -> Version:
    match = SEMVER.match(text)
    if not match:
        raise BadInput(f"{where}/Chart.yaml: version {text!r} is not a semantic version")
    return Version.of(int(match[1]), int(match[2]), int(match[3]), match[4])


def chart_version(text: str, where: str) -> str:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{where}: not YAML: {exc}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise BadInput(f"{where}: no `version` key")
    return str(data["version"])


def changed_charts(repo: Path, base: str, charts: str) -> list[str]:
    """charts/<name> for every chart with a file that differs from `base`: committed, edited or new
    and not yet added (so `make lint` before a commit sees what the pull request will)."""
    paths = []
    for args in (("diff", "--name-only", "--find-renames", base), ("ls-files", "--others", "--exclude-standard")):
        result = git(repo, *args, "--", charts)
        if result.returncode != 0:
            raise BadInput(f"git {args[0]} against {base} failed: {result.stderr.strip()}")
        paths += result.stdout.splitlines()
    names = {Path(path).parts[1] for path in paths if len(Path(path).parts) > 2}
    return [f"{charts}/{name}" for name in sorted(names) if (repo / charts / name / "Chart.yaml").exists()]


def outcomes(repo: Path, base: str, charts: str = "charts") -> list[Outcome]:
    found = []
    for chart in changed_charts(repo, base, charts):
        new = chart_version((repo / chart / "Chart.yaml").read_text(encoding="utf-8"), f"{chart}/Chart.yaml")
        before = git(repo, "show", f"{base}:{chart}/Chart.yaml")
        old = chart_version(before.stdout, f"{chart}/Chart.yaml at {base[:12]}") if before.returncode == 0 else None
        found.append(Outcome(chart, old, new))
    return found


def main(argv: list[str] | None = None, repo: Path | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", default="charts", help="folder holding the charts, relative to the repository")
    parser.add_argument("--base", help="target branch ref (default: see above)")
    args = parser.parse_args(argv)
    repo = repo or Path.cwd()
    ref = target_ref(args.base)
    try:
        base = merge_base(repo, ref)
        results = outcomes(repo, base, args.charts)
    except Skip as exc:
        print(f"{PREFIX} skipped: {exc}")
        return 0
    except BadInput as exc:
        print(f"{PREFIX} error: {exc}", file=sys.stderr)
        return 2
    where = f"the merge base with {ref} ({base[:12]})"
    try:
        failures = [r for r in results if not r.ok]
    except BadInput as exc:
        print(f"{PREFIX} error: {exc}", file=sys.stderr)
        return 2
    for r in failures:
        print(f"{PREFIX} error: {r.changed} differs from {where} but its Chart.yaml version {r.new} "
              f"is not higher than {r.old}; raise `version` in {r.changed}/Chart.yaml", file=sys.stderr)
    if failures:
        return 1
    if not results:
        print(f"{PREFIX} ok: no chart differs from {where}")
    for r in results:
        print(f"{PREFIX} ok: {r.changed} {'is new' if r.old is None else f'{r.old} -> {r.new}'} since {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
