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

from policies.core.errors import InputError
from policies.inputs.jsonkeys import STR_TAG, plain_scalar_tag, stringify_keys

MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIAS_NODES = 100_000
# YAML's printable set (YAML 1.1 §5.1) minus what it allows: tab, LF, CR, NEL and everything from U+00A0 up.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# libyaml where compiled in (8x faster, same marks); its event parser is iterative, only its composer recurses.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAG = "tag:yaml.org,2002:merge"


class Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, resolving plain scalars through plain_scalar_tag: the same tags, each text resolved once."""

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return plain_scalar_tag(value)  # type: ignore[arg-type]
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


class _TooDeep(Exception):
    """Composing reached a node MAX_DEPTH + 1 levels down (the walk over the events tells whether a collection
    is that deep, or only a scalar inside the deepest allowed one)."""


class _BoundedLoader(Loader):
    """The loader, bounded while it composes: the composer calls descend_resolver before it composes a node and
    ascend_resolver after, so counting there stops libyaml's recursive composer MAX_DEPTH nodes down, without a
    separate walk over the events of every (almost always shallow) document first. The safe loader has no path
    resolvers, the one use the resolver's own descend and ascend hooks have."""

    _depth = 0

    def descend_resolver(self, current_node: yaml.Node | None, current_index: object) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep

    def ascend_resolver(self) -> None:
        self._depth -= 1


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
    except IsADirectoryError:
        raise InputError(f"is a directory; expected a {what}", file=path) from None
    except (PermissionError, OSError) as exc:
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


def _key(node: yaml.Node) -> tuple[str, str] | None:
    """A scalar key's identity as YAML resolves it (tag and text); None for a complex key."""
    return (node.tag, node.value) if isinstance(node, yaml.ScalarNode) else None


def _merged_keys(value: yaml.Node) -> list[yaml.Node]:
    """The keys a `<<` merge brings into a mapping: those of one mapping or of a sequence of mappings."""
    sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
    keys: list[yaml.Node] = []
    for source in sources:
        if isinstance(source, yaml.MappingNode):
            for key_node, inner in source.value:
                keys += _merged_keys(inner) if key_node.tag == MERGE_TAG else [key_node]
    return keys


def _check_ambiguous_keys(root: yaml.Node, origin: str | Path, line_offset: int) -> None:
    """Refuse a mapping that sets a key twice, or through a `<<` merge written after the key itself: YAML parsers
    disagree on which value wins there (PyYAML keeps the direct key; go-yaml v2, which helm and kubectl read YAML
    with, takes whichever comes last, and refuses duplicates when strict), so the checks could judge a value the
    cluster never sees. A merge written before the keys that override it means the same to every parser."""
    done: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in done:
            continue
        done.add(id(node))
        # Only collections are stacked: a scalar holds no keys.
        stack.extend(child for child in _children(node) if not isinstance(child, yaml.ScalarNode))
        if not isinstance(node, yaml.MappingNode):
            continue
        direct: dict[tuple[str, str], yaml.Node] = {}
        for key_node, value in node.value:
            if key_node.tag == MERGE_TAG:
                for merged in _merged_keys(value):
                    first = direct.get(_key(merged))  # type: ignore[arg-type]
                    if first is not None:
                        raise InputError(f"key {first.value!r} is set and then merged again by a later `<<`; YAML "
                                         "tools disagree on which value wins (write the merge first)", file=origin,
                                         line=line_offset + key_node.start_mark.line + 1,
                                         column=key_node.start_mark.column + 1)
                continue
            key = _key(key_node)
            if key is None:
                continue
            if key in direct:
                raise InputError(f"key {key_node.value!r} appears twice in one mapping (first at line "
                                 f"{line_offset + direct[key].start_mark.line + 1}); YAML tools disagree on which "
                                 "value wins", file=origin, line=line_offset + key_node.start_mark.line + 1,
                                 column=key_node.start_mark.column + 1)
            direct[key] = key_node


def _compose(text: str, origin: str | Path, what: str, line_offset: int) -> yaml.Node | None:
    """The document's node tree, composed no deeper than the bounds allow."""
    try:
        return yaml.compose(text, Loader=_BoundedLoader)
    except (_TooDeep, yaml.YAMLError) as exc:
        failed = exc
    # Refused: say what a walk over all the text's events finds first (nesting past the limit, or a syntax error,
    # whichever comes first in the text), and only then what composing itself refused (an undefined alias, a
    # second document), as when every document was walked before it was composed.
    try:
        _check_depth(text, origin, line_offset)
        if isinstance(failed, _TooDeep):  # only a scalar inside the deepest allowed collection: within bounds
            return yaml.compose(text, Loader=Loader)
        raise failed
    except yaml.YAMLError as exc:
        raise _malformed(exc, what, origin, line_offset) from None


def compose_bounded(text: str, origin: str | Path, *, what: str = "", line_offset: int = 0) -> yaml.Node | None:
    """Compose one YAML document within the bounds, its mapping keys the strings Kubernetes tools would send
    (policies/inputs/jsonkeys.py); malformed or unbounded input is an InputError."""
    root = _compose(text, origin, what, line_offset)
    if root is not None:
        if "*" in text:  # an alias is written `*name`: text without a `*` has none to bound
            _check_aliases(root, origin, line_offset)
        _check_ambiguous_keys(root, origin, line_offset)
        stringify_keys(root, origin, line_offset)
    return root


_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_PLAIN_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))


class _NotPlain(Exception):
    """A node the direct build leaves to the constructor: another tag, a merge key."""


def _plain_data(loader: Loader, node: yaml.Node) -> object:
    """A document of plain mappings, lists and scalars, built directly: each scalar by the loader's own
    constructor for its tag, each mapping and list as the constructor builds it, without its bookkeeping for
    aliases and recursion (about four times faster). Anything else raises _NotPlain."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _PLAIN_SCALAR_TAGS:
        return loader.yaml_constructors[node.tag](loader, node)
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
        data: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG:  # a merge (`<<`) above all
                raise _NotPlain
            data[key_node.value] = _plain_data(loader, value_node)
        return data
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
        return [_plain_data(loader, item) for item in node.value]
    raise _NotPlain


def construct(text: str, root: yaml.Node | None) -> object:
    """The Python data of a composed (and bounded) document."""
    if root is None:
        return None
    loader = Loader(text)
    if "*" not in text:  # without aliases no node is met twice, so the direct build makes the same data
        try:
            return _plain_data(loader, root)
        except Exception:  # noqa: BLE001 - whatever it is, the constructor decides
            # Not plain, or a scalar its tag does not fit (`!!int x`, a float too large): the constructor builds
            # it, or raises the error it meets first. Its order differs (it builds each mapping's scalars before
            # what is nested in them), so any failure of the direct build is handed over, never raised from here.
            pass
    return loader.construct_document(root)


def _unfit_scalar(loader: Loader, root: yaml.Node) -> tuple[yaml.ScalarNode, Exception] | None:
    """The first scalar, in document order, that its tag's constructor cannot read, with the error it raised."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: its node was read where it was anchored
            continue
        seen.add(id(node))
        stack.extend(reversed(_children(node)))
        constructor = loader.yaml_constructors.get(node.tag) if isinstance(node, yaml.ScalarNode) else None
        try:
            if constructor is not None:
                constructor(loader, node)
        except Exception as exc:  # noqa: BLE001 - what the constructor raised is the finding
            return node, exc
    return None


def construct_bounded(text: str, root: yaml.Node | None, origin: str | Path, *, what: str = "",
                      line_offset: int = 0) -> object:
    """construct(), its errors an InputError at the node that caused them: a tag nothing constructs (`!foo`), or
    a scalar its tag cannot hold (`!!int x`, `!!bool maybe`, `!!timestamp nope`, a float past the float range),
    which PyYAML raises unmarked, as a ValueError, KeyError, AttributeError, ... (a traceback and exit 1 before)."""
    try:
        return construct(text, root)
    except yaml.YAMLError as exc:
        raise _malformed(exc, what, origin, line_offset) from None
    except Exception as exc:  # noqa: BLE001 - PyYAML's scalar constructors raise whatever their parsing meets
        unfit = _unfit_scalar(Loader(text), root) if root is not None else None
        if unfit is None:
            raise InputError(f"malformed YAML{what}: {type(exc).__name__}: {exc}", file=origin) from None
        node, error = unfit
        kind = node.tag.rsplit(":", 1)[-1]
        # A ValueError says what was wrong (`invalid literal for int()`); a KeyError or IndexError only echoes.
        why = f" ({error})" if isinstance(error, (ValueError, OverflowError)) else ""
        raise InputError(f"malformed YAML{what}: {node.value!r} cannot be read as {kind}{why}", file=origin,
                         line=line_offset + node.start_mark.line + 1, column=node.start_mark.column + 1) from None

