"""JSON Schema validation of a sourced YAML file, with errors that name the line."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policies.core.errors import InputError
from policies.inputs.yamlsource import KeyPath, SourcedYaml, dotted

if TYPE_CHECKING:
    import jsonschema


@cache
def validator_for(schema_path: Path) -> jsonschema.protocols.Validator:
    """A cached validator for a JSON schema file (the file's own $schema picks the draft)."""
    # Imported on first use: jsonschema is a third of the harness's import time, and `--help` needs none of it.
    import jsonschema
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("schema file not found", file=schema_path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", file=schema_path, line=exc.lineno) from None
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def describe(error: jsonschema.ValidationError) -> str:
    """A one-line, user-facing account of a schema error."""
    if error.validator == "additionalProperties":
        return f"{error.message}; expected one of: {', '.join(sorted(error.schema.get('properties', {})))}"
    expected = error.schema.get("description")
    return f"{error.message}" + (f" (expected: {expected})" if expected else "")


Locator = Callable[[KeyPath], tuple[str, int | None] | None]


def schema_errors(schema_path: Path, sourced: SourcedYaml, locate: Locator | None = None) -> list[InputError]:
    """Every schema violation of a sourced document, each located by file, line and key.

    `locate` maps a key path to the (file, line) that wrote it, for documents
    merged from several files; by default the document's own file and lines.
    """
    errors: list[InputError] = []
    data: Any = sourced.data if sourced.data is not None else {}
    for error in sorted(validator_for(schema_path).iter_errors(data), key=lambda e: list(map(str, e.path))):
        key_path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in allowed]
            if extra:
                key_path = (*key_path, extra[0])
        file, line = (locate(key_path) if locate else None) or (str(sourced.path), sourced.line_of(key_path))
        errors.append(InputError(describe(error), file=file, line=line, key=dotted(key_path) or None))
    return errors


def validate_or_raise(schema_path: Path, sourced: SourcedYaml) -> None:
    errors = schema_errors(schema_path, sourced)
    if errors:
        first = errors[0]
        if len(errors) > 1:
            first.message += f" (and {len(errors) - 1} more schema error(s))"
        raise first
