"""Kubernetes resource quantities, parsed and compared as numbers.

Follows apimachinery's resource.Quantity grammar: a signed decimal number,
optionally in exponent form (`1e3`, `1.5E2`), followed by a binary suffix
(Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m k M G T P E) or nothing. Memory in
cores-style units (`100m` bytes) is legal Kubernetes but never meant; cpu in
byte units (`100Mi`) is an error here, and so is anything Kubernetes rejects
(`1Gb`, `1 Gi`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)
CPU_SUFFIXES = {"", "m", "n", "u", "k", "M", "G", "T", "P", "E"}
MEMORY_FORBIDDEN_SUFFIXES = {"m", "n", "u"}


class QuantityError(ValueError):
    """A value that is not a valid quantity of the expected resource."""


def parse_quantity(value: object) -> tuple[Decimal, str]:
    """Return (amount in base units, suffix) for a Kubernetes quantity."""
    if isinstance(value, bool) or value is None:
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int | float):
        return Decimal(str(value)), ""
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    match = _QUANTITY.match(value)
    if not match:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity (e.g. 250m, 1, 512Mi, 1Gi)")
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise QuantityError(f"{value!r} is not a number") from None
    if match["exponent"]:
        return number * Decimal(10) ** int(match["exponent"][1:]), ""
    suffix = match["suffix"] or ""
    factor = BINARY.get(suffix) or DECIMAL[suffix]
    return number * factor, suffix


def parse_cpu(value: object) -> Decimal:
    """CPU in cores: `500m` -> 0.5, `1` -> 1. Byte suffixes are rejected."""
    amount, suffix = parse_quantity(value)
    if suffix not in CPU_SUFFIXES:
        raise QuantityError(f"{value!r} is a memory-style quantity; cpu is cores (e.g. 250m, 1)")
    if amount < 0:
        raise QuantityError(f"{value!r} is negative")
    return amount


def parse_memory(value: object) -> Decimal:
    """Memory in bytes: `256Mi` -> 268435456. Milli-byte suffixes are rejected."""
    amount, suffix = parse_quantity(value)
    if suffix in MEMORY_FORBIDDEN_SUFFIXES:
        raise QuantityError(f"{value!r} is in milli/micro/nano units; memory is bytes (e.g. 256Mi, 1Gi)")
    if amount < 0:
        raise QuantityError(f"{value!r} is negative")
    return amount


PARSERS = {"cpu": parse_cpu, "memory": parse_memory}


def parse_resource(resource: str, value: object) -> Decimal:
    return PARSERS[resource](value)


def format_cpu(cores: Decimal) -> str:
    # Always millicores, as the budget writes them (1000m, not 1).
    return f"{(cores * 1000).normalize():f}m"


def format_memory(amount: Decimal) -> str:
    numerator, denominator = amount.as_integer_ratio()
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        factor = BINARY[suffix]
        # Exact integer arithmetic: Decimal's % fails on amounts beyond its 28-digit precision.
        if denominator == 1 and numerator >= factor and numerator % factor == 0:
            return f"{numerator // factor}{suffix}"
    return f"{amount.normalize():f}"


FORMATTERS = {"cpu": format_cpu, "memory": format_memory}
