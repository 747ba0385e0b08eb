"""Rule-test helpers: start from a real render that passes, change one field, check again."""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from policies import CHART_DIR
from policies.checks.context import CheckContext
from policies.core.findings import Finding
from policies.core.paths import display_path
from policies.engine import locate
from policies.inputs.budget import Budget, load_budget
from policies.inputs.yamlsource import load_yaml_file
from policies.render.manifests import Manifest, ManifestIndex, parse_manifests
from policies.render.render import Render, ValuesLayers

Check = Callable[[CheckContext], Iterable[Finding]]


def editable_docs(render: Render) -> list[dict[str, Any]]:
    return render.manifests.docs()


def find_doc(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and "helm.sh/hook" not in
               (d["metadata"].get("annotations") or {})]
    assert matches, f"no {kind} among {[d['kind'] for d in docs]}"
    return matches[0]


def app_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return find_doc(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def run_rule(check: Check, docs: list[dict[str, Any]], environment: str, budget: Budget) -> list[Finding]:
    index = ManifestIndex(Manifest(d) for d in docs)
    return list(check(CheckContext(environment, budget, index)))


def run_rule_on_file(check: Check, docs: list[dict[str, Any]], environment: str, budget: Budget,
                     path: Path) -> list[Finding]:
    """Run a rule as `check --manifests` would: docs written to `path`, findings located in it."""
    path.write_text(safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    ctx = CheckContext(environment, budget, ManifestIndex(parse_manifests(path.read_text(encoding="utf-8"),
                                                                          origin=path)))
    return [locate(finding, ctx, CHART_DIR) for finding in check(ctx)]


FindingTuple = tuple[str, str | None, str | None, str | None, int | None]


def finding_tuples(findings: Iterable[Finding]) -> list[FindingTuple]:
    """What rule tests compare: every finding's (rule, resource, field, file, line), in order."""
    return [(f.rule, f.resource, f.field, f.file, f.line) for f in findings]


def line_of(path: Path, text: str, after: int = 0) -> int:
    """1-based number of the first line at or after line `after` that contains `text`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number >= after and text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path} after line {after}")


def unguarded(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The render without its namespace guards. An over-budget pod is also refused by the LimitRange and the
    ResourceQuota (guard.* safety findings); tests about judging one budget finding drop the guards, and run
    with a budget whose environment asks for none (builders.budget_with(env, admissionGuards=False))."""
    return [doc for doc in docs if doc["kind"] not in ("LimitRange", "ResourceQuota")]


# --- Exact findings: what every rule test compares -------------------------------------------------------------

MARKER = "LOCATED-HERE"
# A field path as findings write it: `spec.containers[0].env[name=X].value`, `metadata.annotations["a/b"]`.
# Parsed here, not with policies.render.manifests, so the expected line does not come from the code under test.
_FIELD_STEP = re.compile(r'\.?([^.\[\]]+)|\[(\d+|\*)\]|\[name=([^\]]*)\]|\[("(?:[^"\\]|\\.)*")\]')
Expected = tuple[str, str | None, str | None]  # (rule, resource, field): where comes from the written file


# The safe dumper with libyaml's emitter: the same documents as yaml.safe_dump, written about eight times faster
# (a production render: 3 ms against 22 ms). Long strings may fold at other places; every test reads the lines it
# expects from the file it wrote, never from another dumper's output.
SafeCDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def safe_dump(data: Any, **options: Any) -> str:
    """yaml.safe_dump through libyaml's emitter."""
    return yaml.dump(data, Dumper=SafeCDumper, **options)


def safe_dump_all(docs: Iterable[Any], **options: Any) -> str:
    """yaml.safe_dump_all through libyaml's emitter."""
    return yaml.dump_all(docs, Dumper=SafeCDumper, **options)


# What SafeRepresenter writes for each plain scalar type: its tag and its text.
_SCALARS: dict[type, tuple[str, Callable[[Any], str]]] = {
    str: ("tag:yaml.org,2002:str", str),
    int: ("tag:yaml.org,2002:int", str),
    bool: ("tag:yaml.org,2002:bool", lambda flag: "true" if flag else "false"),
    type(None): ("tag:yaml.org,2002:null", lambda _: "null"),
}


class _Dumper(SafeCDumper):  # type: ignore[misc,valid-type]
    """The safe dumper, remembering how each scalar resolves: the resolver tries every implicit pattern on every
    scalar of every case, and the answer depends on the scalar's text alone (the safe dumper has no path
    resolvers), so the same text never needs resolving twice. The plain types documents are made of are
    represented without the representer's dispatch: the same nodes, about a fifth less time per dump."""

    _resolved: dict[str, str] = {}

    def represent_data(self, data: Any) -> yaml.Node:
        kind = type(data)
        if kind in _SCALARS:
            tag, text = _SCALARS[kind]
            return yaml.ScalarNode(tag, text(data), style=self.default_style)
        plain_collection = kind is list or (kind is dict and not self.sort_keys)
        if not plain_collection or self.default_flow_style is None:  # anything else: the representer's own way
            return super().represent_data(data)
        node = self.represented_objects.get(id(data))
        if node is not None:  # an object met before is written once, then as an alias to it
            return node
        self.object_keeper.append(data)  # keeps its id from being reused while the document is represented
        items: list[Any] = []
        if kind is dict:
            node = yaml.MappingNode("tag:yaml.org,2002:map", items, flow_style=self.default_flow_style)
            self.represented_objects[id(data)] = node
            items.extend((self.represent_data(key), self.represent_data(value)) for key, value in data.items())
        else:
            node = yaml.SequenceNode("tag:yaml.org,2002:seq", items, flow_style=self.default_flow_style)
            self.represented_objects[id(data)] = node
            items.extend(self.represent_data(item) for item in data)
        return node

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:  # only the implicit patterns read the text: without them a scalar is a string
            return self.DEFAULT_SCALAR_TAG  # type: ignore[no-any-return]
        tag = self._resolved.get(value)
        if tag is None:
            tag = self._resolved[value] = super().resolve(kind, value, implicit)
        return tag


def dump(docs: Sequence[Any]) -> str:
    """How the rule tests write documents (and values) to a file (libyaml's emitter: a thousand cases fast)."""
    return yaml.dump_all(list(docs), Dumper=_Dumper, sort_keys=False)


def _written_steps(node: Any, field: str | None) -> list[str | int]:
    """The keys and indexes of `field` that are written in node; it stops at the first one that is not.

    A key that itself contains dots (`limits.cpu` under a ResourceQuota's spec.hard) is found even when the
    field writes it unquoted: then this line and the finding's disagree, and the test shows the field path
    that cannot name its key."""
    steps: list[str | int] = []
    matches = [match.groups() for match in _FIELD_STEP.finditer(field or "")]
    position = 0
    while position < len(matches):
        key, index, named, quoted = matches[position]
        position += 1
        if index == "*":
            break  # every item: the list itself is the place
        if index is not None:
            step: str | int = int(index)
        elif named is not None:
            found = [i for i, item in enumerate(node if isinstance(node, list) else [])
                     if isinstance(item, dict) and item.get("name") == named]
            if not found:
                break
            step = found[0]
        else:
            step = json.loads(quoted) if quoted is not None else key
            # An unquoted dotted key: join the following plain keys until the mapping has it.
            joined, ahead = step, position
            while isinstance(node, dict) and joined not in node and ahead < len(matches) and matches[ahead][0]:
                joined, ahead = f"{joined}.{matches[ahead][0]}", ahead + 1
            if isinstance(node, dict) and joined in node:
                step, position = joined, ahead
        if isinstance(node, dict) and step in node or \
                isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            steps.append(step)
        else:
            break
    return steps


def written_line(documents: Sequence[Any], index: int, field: str | None) -> int:
    """The line of `field` of documents[index] in dump(documents), read back from the text: the field's value
    (or, when it is not written, its deepest written parent) becomes a marker and the dump is searched for it.
    Nothing up to that key's line moves, so this is the line an editor shows."""
    steps = _written_steps(documents[index], field)
    if not steps:  # the document itself: its first line, after the `---` that separates it from the one before
        before = dump(documents[:index]) if index else ""
        return len(before.splitlines()) + (2 if index else 1)
    marked = copy.deepcopy(list(documents))
    node = marked[index]
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = MARKER
    return next(number for number, line in enumerate(dump(marked).splitlines(), start=1) if MARKER in line)


def _ref(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind', '')}/{(doc.get('metadata') or {}).get('name', '')}"


def _write(path: Path, text: str) -> None:
    """Write text to path over what the file held. A module can rewrite one case file a thousand times, and
    opening a file that has data with O_TRUNC makes ext4 free its block and allocate it again at close (its guard
    for files replaced by truncation): about 0.1 ms of CPU each time, where writing over the old bytes and then
    cutting off the rest costs a tenth of that."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT, 0o666), "wb") as handle:
        handle.write(text.encode("utf-8"))
        handle.truncate()


@cache
def _budget() -> Budget:
    return load_budget()


class RuleCase:
    """One rule-test case on disk: documents written as `check --manifests` reads them (and, optionally, a
    values file), checked by the rule families, every finding located as the engine locates it."""

    def __init__(self, directory: Path, docs: Sequence[dict[str, Any]], *, environment: str = "production",
                 budget: Budget | None = None, values: dict[str, Any] | None = None) -> None:
        self.docs = list(docs)
        self.environment = environment
        self.budget = budget or _budget()
        self.path = directory / "manifests.yaml"
        _write(self.path, dump(self.docs))
        self.values = values
        self.values_path = directory / "values.yaml" if values is not None else None
        if self.values_path is not None:
            _write(self.values_path, dump([values]))

    def context(self) -> CheckContext:
        text = self.path.read_text(encoding="utf-8")
        layers = ValuesLayers((load_yaml_file(self.values_path),)) if self.values_path else None
        return CheckContext(self.environment, self.budget, ManifestIndex(parse_manifests(text, origin=self.path)),
                            layers)

    def findings(self, *checks: Check) -> list[Finding]:
        ctx = self.context()
        return [locate(finding, ctx, CHART_DIR) for check in checks for finding in check(ctx)]

    def found(self, *checks: Check, also: Sequence[str] = ()) -> list[tuple[Any, ...]]:
        """What the rules report: (rule, resource, field, file, line) of every finding, in order, followed by
        the finding attributes named in `also` (e.g. "actual")."""
        findings = self.findings(*checks)
        return [(*where, *(getattr(f, name) for name in also))
                for where, f in zip(finding_tuples(findings), findings, strict=True)]

    def at(self, *expected: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The tuples the findings must be: each (rule, resource, field, *also) becomes (rule, resource, field,
        file, line, *also), the line that of the field in the documents written (a finding without a
        resource: the line of the values key; about an object the file lacks: no file or line)."""
        tuples: list[tuple[Any, ...]] = []
        for rule, resource, field, *also in expected:
            if resource is None:
                assert self.values_path is not None, f"{rule} {field}: no resource and no values file"
                tuples.append((rule, resource, field, display_path(self.values_path),
                               written_line([self.values], 0, field), *also))
                continue
            matches = [i for i, doc in enumerate(self.docs) if _ref(doc) == resource]
            assert len(matches) <= 1, f"{resource} is written {len(matches)} times: name which one"
            if not matches:  # an object the file lacks (a missing guard): no line in it to point at
                tuples.append((rule, resource, field, None, None, *also))
                continue
            tuples.append((rule, resource, field, display_path(self.path),
                           written_line(self.docs, matches[0], field), *also))
        return tuples


def located_findings(checks: Sequence[Check], docs: Sequence[dict[str, Any]], *, environment: str = "production",
                     budget: Budget | None = None) -> list[Finding]:
    """The findings of `checks` on the documents written to a file, each asserted at the line of its field
    in that file (read back independently, RuleCase.at). For modules whose tests compare the full list of
    (rule, resource, field, ...) themselves: together that is the exact (rule, resource, field, file, line)."""
    with tempfile.TemporaryDirectory(prefix="rule-case-") as directory:
        case = RuleCase(Path(directory), docs, environment=environment, budget=budget)
        found = case.findings(*checks)
        assert finding_tuples(found) == case.at(*[(f.rule, f.resource, f.field) for f in found])
    return found
