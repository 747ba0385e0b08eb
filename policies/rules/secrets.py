"""Secrets hygiene: values and rendered config never carry secret material."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policies.context import CheckContext
from policies.findings import Finding, failure
from policies.rules._pods import containers
from policies.yamlsource import KeyPath, dotted

RULES = {
    "secrets.literal": "no password, token or key is written literally in values, ConfigMaps or env; "
                       "use existingSecret",
}
SECRET_NAME = re.compile(r"(passw(or)?d|secret|token|api[-_]?key|private[-_]?key|credential|auth)", re.IGNORECASE)
# Keys that name or configure a secret rather than hold one.
REFERENCE_NAME = re.compile(r"(existingSecret|secretName|secretRef|SecretKeyRef|automount|_ENABLED$)",
                            re.IGNORECASE)
HINT = "a Secret referenced by existingSecret"


def looks_secret(key: str, value: Any) -> bool:
    return (isinstance(value, str) and value.strip() != "" and bool(SECRET_NAME.search(key))
            and not REFERENCE_NAME.search(key))


def _walk(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    else:
        yield path, value


def check(ctx: CheckContext) -> Iterator[Finding]:
    for path, value in _walk(ctx.values, ()):
        if path and isinstance(path[-1], str) and looks_secret(path[-1], value):
            yield failure("secrets.literal", f"values key {dotted(path)} holds a literal secret",
                          environment=ctx.environment, field=dotted(path), expected=HINT,
                          actual="<redacted>", values_key=path)
    for config_map in ctx.manifests.of_kind("ConfigMap"):
        for key, value in (config_map.doc.get("data") or {}).items():
            if looks_secret(key, value):
                yield failure("secrets.literal", f"ConfigMap key {key} holds a literal secret",
                              environment=ctx.environment, resource=config_map.ref, source=config_map.source,
                              field=f"data.{key}", expected=HINT, actual="<redacted>")
    for ref in containers(ctx.manifests, include_hooks=True):
        for index, item in enumerate(ref.container.get("env") or []):
            if looks_secret(str(item.get("name", "")), item.get("value")):
                yield failure("secrets.literal", f"env {item['name']} holds a literal secret",
                              environment=ctx.environment, resource=ref.manifest.ref, container=ref.name,
                              source=ref.manifest.source, field=f"{ref.path}.env[{index}].value",
                              expected=HINT, actual="<redacted>", values_key=("extraEnv", str(item["name"])))
