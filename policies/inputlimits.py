"""Bounds on every input file, so bad bytes end in a clear input error (exit 2), in bounded time and memory.

An input file (values, manifests, budget, waivers, measurements, baseline) must be:
  at most MAX_INPUT_BYTES long;
  UTF-8 without a byte-order mark, with no control characters (YAML forbids them; JSON has no use for them);
  nested at most MAX_DEPTH collections deep (libyaml's composer recurses in C: a deep enough file crashes it);
  free of recursive YAML aliases, and its aliases may add at most MAX_ALIAS_NODES nodes when expanded
  (a "billion laughs" file is a few lines that expand to billions of nodes in every walk over it).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import yaml

from policies.errors import InputError

MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIAS_NODES = 100_000
# YAML's printable set (YAML 1.1 §5.1) minus what it allows: tab, LF, CR, NEL and everything from U+00A0 up.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# libyaml where compiled in (8x faster, same marks); its event parser is iterative, only its composer recurses.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _position(data: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line = data.count(newline, 0, offset) + 1
    return line, offset - (data.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]


def read_bounded_text(path: Path, what: str = "file") -> str:
    """The text of an input file, refused (InputError with file, line and column) unless within the bounds."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=path) from None
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise InputError(f"cannot read {what}: {exc.__class__.__name__}", file=path) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{what} is larger than the {MAX_INPUT_BYTES // (1024 * 1024)} MiB limit for input files",
                         file=path)
    if data.startswith(_BOMS):
        raise InputError(f"{what} starts with a byte-order mark; save it as UTF-8 without a BOM", file=path,
                         line=1, column=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise InputError(f"{what} is not valid UTF-8 (byte 0x{data[exc.start]:02x})", file=path, line=line,
                         column=column) from None
    control = _CONTROL.search(text)
    if control:
        line, column = _position(text, control.start())
        raise InputError(f"{what} holds control character U+{ord(control.group()):04X}, which YAML does not "
                         "allow", file=path, line=line, column=column)
    return text


def _malformed(exc: yaml.YAMLError, what: str, origin: str | Path, line_offset: int) -> InputError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        return InputError(f"malformed YAML{what}: {problem}", file=origin,
                          line=line_offset + mark.line + 1 if mark else None,
                          column=mark.column + 1 if mark else None)
    return InputError(f"malformed YAML{what}: {exc}", file=origin)


def _check_depth(text: str, origin: str | Path, line_offset: int) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"YAML nested more than {MAX_DEPTH} levels deep", file=origin,
                                 line=line_offset + event.start_mark.line + 1, column=event.start_mark.column + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root: yaml.Node, origin: str | Path, line_offset: int) -> None:
    """Refuse recursive aliases and aliases that expand the document by more than MAX_ALIAS_NODES nodes."""
    sizes: dict[int, int] = {}  # node id -> expanded node count (capped), once finished
    visiting: set[int] = set()
    cap = MAX_ALIAS_NODES * 10
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            visiting.discard(key)
            sizes[key] = min(cap, 1 + sum(sizes[id(child)] for child in _children(node)))
            continue
        if key in sizes:
            continue
        if key in visiting:
            raise InputError("recursive YAML alias: a node contains an alias to itself", file=origin,
                             line=line_offset + node.start_mark.line + 1, column=node.start_mark.column + 1)
        visiting.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    added = sizes[id(root)] - len(sizes)
    if added > MAX_ALIAS_NODES:
        raise InputError(f"YAML aliases expand this document by more than {MAX_ALIAS_NODES} nodes (an alias "
                         "bomb?)", file=origin, line=line_offset + 1)


def compose_bounded(text: str, origin: str | Path, *, what: str = "", line_offset: int = 0) -> yaml.Node | None:
    """Compose one YAML document within the bounds; malformed or unbounded input is an InputError."""
    try:
        _check_depth(text, origin, line_offset)
        root = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError as exc:
        raise _malformed(exc, what, origin, line_offset) from None
    if root is not None:
        _check_aliases(root, origin, line_offset)
    return root


def construct(text: str, root: yaml.Node | None) -> object:
    """The Python data of a composed (and bounded) document."""
    return Loader(text).construct_document(root) if root is not None else None
