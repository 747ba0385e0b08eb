"""The harness's modules import one way: no cycles, and no stage imports a later stage.

The stages are the subpackages of `policies`, in the order data flows through them
(`LAYERS`); every module belongs to one, and imports only from its own and the ones before it.

The graph counts every import of a `policies` module, at any depth (inside
functions and `if TYPE_CHECKING:` blocks too: an import hidden there still
ties the modules together). The one exception is a lazy import kept for
start-up speed, which says so on its line (`# lazy: start-up speed`).
A package's own `__init__` importing its submodules (the rule families'
registry) is not an edge back from the submodules.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from functools import cache
from pathlib import Path

import pytest

from policies import PACKAGE_DIR

LAZY_MARK = "# lazy: start-up speed"


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str], package_dir: Path = PACKAGE_DIR) -> set[str]:
    """The `policies` modules one file imports (`from policies.x import y` counts `policies.x.y` when y is one)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    name = module_name(path, package_dir)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Import | ast.ImportFrom) or LAZY_MARK in lines[node.lineno - 1]:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    paths = {module_name(p, package_dir): p for p in package_dir.rglob("*.py")}
    known = set(paths)
    return {name: imported_modules(path, known, package_dir) for name, path in paths.items()}


@cache
def harness_graph() -> Mapping[str, Set[str]]:
    """The graph of the harness itself, read once per test process: six tests ask the same question of it."""
    return {name: frozenset(imports) for name, imports in import_graph().items()}


def cycles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_should_find_no_import_cycle_among_the_harness_modules():
    assert cycles(harness_graph()) == []


def fake_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "policies"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    return package


def test_should_see_a_cycle_hidden_in_a_function_or_a_type_checking_block(tmp_path: Path):
    package = fake_package(tmp_path, {
        "engine.py": "from policies import stage\n",
        "stage.py": "def run():\n    from policies.engine import evaluate\n",
        "report.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .engine import Request\n",
    })
    assert import_graph(package)["policies.report"] == {"policies.engine"}
    assert cycles(import_graph(package)) == [["policies.engine", "policies.stage"]]


def test_should_let_a_lazy_import_for_start_up_speed_say_so(tmp_path: Path):
    package = fake_package(tmp_path, {
        "engine.py": "from policies import stage\n",
        "stage.py": f"def run():\n    from policies.engine import evaluate  {LAZY_MARK}\n",
    })
    assert cycles(import_graph(package)) == []


# The flow, lowest first: the package root (its paths), the vocabulary every stage shares, the stages
# in the order data passes through them, then the top (catalogue, plan, helm calls, docs, engine, command line).
LAYERS = (
    "policies",
    "policies.core",
    "policies.inputs",
    "policies.render",
    "policies.checks",
    "policies.judging",
    "policies.reports",
    "policies.catalogue",
    "policies.checkplan",
    "policies.helmwork",
    "policies.docs",
    "policies.engine",
    "policies.cli",
    "policies.__main__",
)


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the stage a module belongs to (its longest matching prefix); None: no stage."""
    found = [i for i, layer in enumerate(LAYERS) if module == layer or module.startswith(layer + ".")]
    return max(found, default=None, key=lambda i: len(LAYERS[i]))


def upward_imports(graph: Mapping[str, Set[str]]) -> list[tuple[str, str]]:
    """Every import of a later stage (or, with a layer unknown, of anything): (importer, imported)."""
    return sorted((name, imported) for name, imports in graph.items() for imported in imports
                  if layer_of(name) is None or layer_of(imported) is None or layer_of(imported) > layer_of(name))


def test_should_place_every_harness_module_in_a_stage():
    assert [name for name in harness_graph() if layer_of(name) is None] == []


def test_should_import_only_from_the_same_stage_or_the_ones_before_it():
    assert upward_imports(harness_graph()) == []


def test_should_see_a_stage_importing_a_later_one(tmp_path: Path):
    package = fake_package(tmp_path, {
        "core/__init__.py": "",
        "core/findings.py": "from policies.checks.drift import Drift\n",
        "checks/__init__.py": "",
        "checks/drift.py": "from policies.core import findings\n",
    })
    assert upward_imports(import_graph(package)) == [("policies.core.findings", "policies.checks.drift")]


# Who may import the top of the flow: the command line sits above the engine, the engine above the stages.
MAY_IMPORT = {
    "policies.cli": {"policies.__main__"},
    "policies.engine": {"policies.cli"},
    "policies.catalogue": {"policies.engine", "policies.cli", "policies.docs.budgetdoc", "policies.reports.junit"},
}


@pytest.mark.parametrize("module", sorted(MAY_IMPORT))
def test_should_import_the_top_of_the_flow_only_from_above(module: str):
    importers = {name for name, imports in harness_graph().items() if module in imports}
    assert importers <= MAY_IMPORT[module]
