"""Mapping keys as the Kubernetes tools send them: always strings, spelled the way sigs.k8s.io/yaml spells them.

kubectl and helm (its values files and its rendered manifests alike) turn YAML into JSON with sigs.k8s.io/yaml:
go-yaml v2 reads the document, then `convertToJSONableObject` (sigs.k8s.io/yaml, yaml.go) rewrites every map key
as a string: an int with strconv.Itoa (`0` -> "0"), a float with strconv.FormatFloat(f, 'g', -1, 32) and `.inf`,
`-.inf`, `.nan` for the specials (`1.50` -> "1.5", `1e6` -> "1e+06"), a bool as "true"/"false"; any other key type
(null, a uint64 past int64, a mapping or list) is refused with "Unsupported map key of type ...". What type a plain
key has is go-yaml v2's resolve.go, not PyYAML's: `y`/`n` are booleans there, `1:30` and `2024-01-01` stay text
(a timestamp read into interface{} is kept as its text), `017` is octal, `0o17` an int.

The checks must judge the object the API server receives, so keys are rewritten once, on the composed node tree,
before anything is constructed; a key the converter refuses is an input error, as kubectl and helm refuse it too.
"""

from __future__ import annotations

import math
import re
import struct
from functools import lru_cache
from pathlib import Path

import yaml

from policies.core.errors import InputError

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1
# go-yaml v2 resolve.go: the words it looks up before anything else.
_WORDS: dict[str, str | None] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), "true"),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), "false"),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), ".nan"),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), ".inf"),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), "-.inf"),
}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.?[0-9]*)([eE][-+]?[0-9]+)?")
_FLOAT32_LIMIT = 3.4028235677973366e38  # float32's largest value plus half its last step: past it, Inf
_RESOLVER = yaml.resolver.Resolver()
_DIGITS = {16: "[0-9a-fA-F]+", 8: "[0-7]+", 2: "[01]+", 10: "[0-9]+"}
# Plain scalars up to this length keep their resolved tag: keys and short values repeat in every document
# (`name`, `true`, `8080`), while long text (a certificate, a script) rarely does and would only hold memory.
_REMEMBERED_LENGTH = 64


@lru_cache(maxsize=4096)
def _remembered_plain_tag(text: str) -> str:
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))


def plain_scalar_tag(text: str) -> str:
    """The tag PyYAML's safe resolver gives a plain (unquoted, untagged) scalar: int, bool, null, ... or str.
    The answer depends on the text alone, and the resolver tries a list of patterns on every scalar of every
    document, so short texts are resolved once per process."""
    if len(text) > _REMEMBERED_LENGTH:
        return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    return _remembered_plain_tag(text)


class UnsupportedKey(ValueError):
    """A key sigs.k8s.io/yaml refuses to turn into a JSON object key."""


def _go_int(text: str, *, signed: bool) -> int | None:
    """strconv.ParseInt / ParseUint(text, 0, 64) without range checks: base from the prefix, `0` alone octal."""
    sign, body = ("-" if text[:1] == "-" else ""), text.lstrip("+-") if signed else text
    if len(text) - len(body) > 1 or (not signed and body != text):
        return None
    base, digits = 10, body
    if body[:2] in ("0x", "0X"):
        base, digits = 16, body[2:]
    elif body[:2] in ("0o", "0O"):
        base, digits = 8, body[2:]
    elif body[:2] in ("0b", "0B"):
        base, digits = 2, body[2:]
    elif body[:1] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
    if not re.fullmatch(_DIGITS[base], digits):
        return None
    return int(sign + digits, base)


def format_float32(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 32) with go-yaml's names for the specials."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value) or abs(value) >= _FLOAT32_LIMIT:
        return ".inf" if value > 0 else "-.inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    value = abs(value)
    if value == 0:
        return sign + "0"
    target = struct.unpack("f", struct.pack("f", value))[0]
    for precision in range(1, 10):  # the fewest digits that read back as the same float32
        mantissa, exponent = f"{target:.{precision - 1}e}".split("e")
        if struct.unpack("f", struct.pack("f", float(f"{mantissa}e{exponent}")))[0] == target:
            break
    digits, exp = mantissa.replace(".", "").rstrip("0") or "0", int(exponent)
    if exp < -4 or exp >= 6:  # Go's %g switches to an exponent at 1e-5 and at 1e+06 when shortest
        fraction = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole, fraction = digits[: exp + 1].ljust(exp + 1, "0"), digits[exp + 1:]
    return f"{sign}{whole}{'.' + fraction if fraction else ''}"


def _plain_key(text: str) -> str:
    """The JSON key go-yaml v2 + sigs.k8s.io/yaml make of a plain (unquoted, untagged) scalar key."""
    if text in _WORDS:
        word = _WORDS[text]
        if word is None:
            raise UnsupportedKey("a null key")
        return word
    if text[:1] == ".":
        if _GO_FLOAT.fullmatch(text):
            number = float(text)
            return text if math.isinf(number) else format_float32(number)
        return text
    if text[:1] not in "+-0123456789" or not text:
        return text
    plain = text.replace("_", "")
    number = _go_int(plain, signed=True)
    if number is not None and _INT64[0] <= number <= _INT64[1]:
        return str(number)
    number = _go_int(plain, signed=False)
    if number is not None and number <= _UINT64_MAX:
        raise UnsupportedKey(f"an integer past int64 ({text})")
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        number = float(plain)
        if not math.isinf(number):  # strconv.ParseFloat fails on overflow: the key stays text
            return format_float32(number)
    return text  # timestamps too: go-yaml v2 keeps their text when the target is interface{}


def json_key(node: yaml.Node) -> str:
    """The string a mapping key node becomes on its way to the API server; UnsupportedKey if none."""
    if not isinstance(node, yaml.ScalarNode):
        raise UnsupportedKey(f"a {'mapping' if isinstance(node, yaml.MappingNode) else 'sequence'} used as a key")
    plain = not node.style  # None from PyYAML's own parser, "" from libyaml's
    if len(node.value) > _REMEMBERED_LENGTH:
        return _scalar_key(plain, node.tag, node.value)
    return _remembered_scalar_key(plain, node.tag, node.value)


def _scalar_key(plain: bool, tag: str, text: str) -> str:
    if plain and tag != STR_TAG:
        return _plain_key(text)
    if plain:
        # Plain but resolved as text by PyYAML: text unless the author wrote `!!str`, which go-yaml honours too
        # (an implicit resolution to str and an explicit tag look alike here, so ask the resolver).
        return _plain_key(text) if plain_scalar_tag(text) == STR_TAG else text
    if tag in (STR_TAG, "!"):
        return text
    return _plain_key(text)  # a quoted scalar with an explicit non-string tag: resolved by its text


# The same keys come back in every document (`name`, `image`, `resources`): each is worked out once.
_remembered_scalar_key = lru_cache(maxsize=4096)(_scalar_key)


def _line_column(node: yaml.Node, line_offset: int) -> tuple[int, int]:
    return line_offset + node.start_mark.line + 1, node.start_mark.column + 1


def stringify_keys(root: yaml.Node | None, origin: str | Path, line_offset: int = 0) -> None:
    """Rewrite every mapping key in the tree as the string node Kubernetes would receive; refused keys and two
    keys that become the same string (`0` and `"0"`: which wins depends on Go's map order) are InputErrors."""
    done: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in done:
            continue
        done.add(id(node))
        # Only collections are stacked: a scalar holds no keys to rewrite.
        if isinstance(node, yaml.SequenceNode):
            stack.extend(item for item in node.value if not isinstance(item, yaml.ScalarNode))
        if not isinstance(node, yaml.MappingNode):
            continue
        seen: dict[str, yaml.Node] = {}
        for index, (key_node, value) in enumerate(node.value):
            if not isinstance(value, yaml.ScalarNode):
                stack.append(value)
            if key_node.tag == MERGE_TAG:
                continue
            try:
                key = json_key(key_node)
            except UnsupportedKey as exc:
                line, column = _line_column(key_node, line_offset)
                raise InputError(f"unsupported mapping key: {exc}; kubectl and helm (sigs.k8s.io/yaml) refuse "
                                 "any key that is not a string, number or boolean", file=origin, line=line,
                                 column=column) from None
            if key in seen:
                line, column = _line_column(key_node, line_offset)
                raise InputError(f"keys {seen[key].value!r} (line {line_offset + seen[key].start_mark.line + 1}) "
                                 f"and {key_node.value!r} both become the JSON key {key!r}; which value wins is "
                                 "undefined", file=origin, line=line, column=column)
            seen[key] = key_node
            if key_node.tag != STR_TAG or key != key_node.value:
                node.value[index] = (yaml.ScalarNode(STR_TAG, key, key_node.start_mark, key_node.end_mark,
                                                     style='"'), value)
