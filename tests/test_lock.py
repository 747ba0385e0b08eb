"""requirements.lock and pyproject.toml agree: every declared requirement is locked at an
allowed version, every locked distribution is hash-pinned and wanted by something, and
nothing the lock says comes from pyproject.toml is missing there (a dependency removed
from pyproject.toml but left in the lock). `make lock` rewrites the lock."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from policies import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
LOCK = REPO_ROOT / "requirements.lock"
# How uv's `# via` comments name a requirement declared in pyproject.toml.
FROM_PYPROJECT = re.compile(r"\(pyproject\.toml\)$")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")
HASH = re.compile(r"^\s+--hash=sha256:(?P<digest>[0-9a-f]{64})\s*\\?$")
VIA = re.compile(r"^\s+#\s+(?:via\s+)?(?:#\s+)?(?P<origin>\S.*)$")


@dataclass
class LockedPin:
    name: str
    version: str
    line: int
    marker: str | None = None
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def parse_lock(text: str) -> dict[str, LockedPin]:
    """The lock's pins by canonical name, each with its hashes and `# via` origins."""
    pins: dict[str, LockedPin] = {}
    current: LockedPin | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if match := PIN.match(line):
            current = LockedPin(match["name"], match["version"], number, match["marker"])
            pins[canonicalize_name(current.name)] = current
        elif current and (match := HASH.match(line)):
            current.hashes.append(match["digest"])
        elif current and line.strip() != "# via" and (match := VIA.match(line)):
            current.via.append(match["origin"].strip())
        elif line.strip() and not line.lstrip().startswith("#"):
            raise ValueError(f"{LOCK.name}:{number}: unexpected line {line!r}")
    return pins


def declared_requirements(pyproject: dict) -> list[tuple[str, Requirement]]:
    """(where, requirement) for the dependencies, every extra and the build backend."""
    project = pyproject["project"]
    found = [("project.dependencies", Requirement(text)) for text in project.get("dependencies", [])]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(f"project.optional-dependencies.{extra}", Requirement(text)) for text in texts]
    found += [("build-system.requires", Requirement(text)) for text in pyproject["build-system"]["requires"]]
    return found


def disagreements(pyproject: dict, pins: dict[str, LockedPin]) -> list[str]:
    problems = []
    declared = declared_requirements(pyproject)
    for where, requirement in declared:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{where}: {requirement} is not in {LOCK.name}; run `make lock`")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{where}: {requirement} but {LOCK.name}:{pin.line} locks {pin.name}=={pin.version}; "
                            f"run `make lock`")
    declared_names = {canonicalize_name(requirement.name) for _, requirement in declared}
    for key, pin in pins.items():
        where = f"{LOCK.name}:{pin.line} {pin.name}=={pin.version}"
        if not pin.hashes:
            problems.append(f"{where}: no --hash")
        if not pin.via:
            problems.append(f"{where}: no `# via` saying what needs it")
        for origin in pin.via:
            if FROM_PYPROJECT.search(origin):
                if key not in declared_names:
                    problems.append(f"{where}: locked for pyproject.toml, which no longer declares it; "
                                    f"run `make lock`")
            elif canonicalize_name(origin) not in pins:
                problems.append(f"{where}: needed by {origin}, which is not locked")
    return problems


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


@pytest.fixture(scope="module")
def pins() -> dict[str, LockedPin]:
    return parse_lock(LOCK.read_text())


def test_should_agree_with_pyproject(pyproject, pins):
    assert disagreements(pyproject, pins) == []


def test_should_lock_transitive_dependencies_pip_and_the_build_backend(pins):
    # attrs and rpds-py come only through jsonschema; pip and setuptools are what used to float.
    assert {"attrs", "rpds-py", "referencing", "pip", "setuptools"} <= pins.keys()


def test_should_install_the_build_backend_the_project_declares(pyproject, pins):
    (backend,) = [Requirement(text) for text in pyproject["build-system"]["requires"]]
    assert str(backend.specifier) == f"=={pins[canonicalize_name(backend.name)].version}"


def test_should_say_how_it_was_made():
    assert "#    make lock" in LOCK.read_text().splitlines()[1]


# -- The comparison itself, on small inputs, each one detail away from agreement.

SMALL_LOCK = """\
jsonschema==4.26.0 \\
    --hash=sha256:{h}
    # via demo (pyproject.toml)
attrs==26.1.0 \\
    --hash=sha256:{h}
    # via jsonschema
setuptools==84.2.1 \\
    --hash=sha256:{h}
    # via demo (pyproject.toml)
""".replace("{h}", "a" * 64)


def small_pyproject(dependency: str = "jsonschema==4.26.0", backend: str = "setuptools==84.2.1") -> dict:
    return {"project": {"dependencies": [dependency], "optional-dependencies": {"tools": [backend]}},
            "build-system": {"requires": [backend]}}


def test_should_accept_a_lock_that_agrees():
    assert disagreements(small_pyproject(), parse_lock(SMALL_LOCK)) == []


def test_should_report_a_version_the_lock_does_not_hold():
    assert disagreements(small_pyproject("jsonschema==4.26.1"), parse_lock(SMALL_LOCK)) == [
        "project.dependencies: jsonschema==4.26.1 but requirements.lock:1 locks jsonschema==4.26.0; run `make lock`",
    ]


def test_should_report_a_requirement_missing_from_the_lock():
    pyproject = small_pyproject()
    pyproject["project"]["optional-dependencies"]["dev"] = ["ruff==0.17.5"]
    assert disagreements(pyproject, parse_lock(SMALL_LOCK)) == [
        "project.optional-dependencies.dev: ruff==0.17.5 is not in requirements.lock; run `make lock`",
    ]


def test_should_report_a_build_backend_the_lock_does_not_hold():
    pyproject = small_pyproject()
    pyproject["build-system"]["requires"] = ["setuptools==84.2.0"]
    assert disagreements(pyproject, parse_lock(SMALL_LOCK)) == [
        "build-system.requires: setuptools==84.2.0 but requirements.lock:7 locks setuptools==84.2.1; run `make lock`",
    ]


def test_should_report_a_dependency_removed_from_pyproject_but_still_locked():
    pyproject = small_pyproject()
    pyproject["project"]["optional-dependencies"]["tools"] = []
    pyproject["build-system"]["requires"] = []
    assert disagreements(pyproject, parse_lock(SMALL_LOCK)) == [
        "requirements.lock:7 setuptools==84.2.1: locked for pyproject.toml, which no longer declares it; "
        "run `make lock`",
    ]


def test_should_report_a_pin_without_a_hash():
    lock = SMALL_LOCK.replace("attrs==26.1.0 \\\n    --hash=sha256:" + "a" * 64 + "\n", "attrs==26.1.0\n")
    assert disagreements(small_pyproject(), parse_lock(lock)) == ["requirements.lock:4 attrs==26.1.0: no --hash"]


def test_should_report_a_pin_needed_by_something_not_locked():
    lock = SMALL_LOCK.replace("# via jsonschema", "# via referencing")
    assert disagreements(small_pyproject(), parse_lock(lock)) == [
        "requirements.lock:4 attrs==26.1.0: needed by referencing, which is not locked",
    ]


def test_should_read_multi_line_via_and_markers():
    pins = parse_lock(LOCK.read_text())
    assert pins["colorama"].marker == "sys_platform == 'win32'"
    assert pins["attrs"].via == ["jsonschema", "outcome", "referencing", "trio"]  # outcome, trio: selenium's
