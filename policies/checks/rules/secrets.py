"""Secrets hygiene: values and rendered config never carry secret material.

A key looks secret when one of its words (camelCase, snake_case and kebab-case
are split) names secret material: `password`, `token`, `apiKey`, `AUTH_TOKEN`,
`clientSecret`. Keys that name or configure a secret instead of holding one
(`existingSecret`, `secretName`, `tokenFile`, `PF_AUTH_ENABLED`) are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import containers
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.inputs.yamlsource import KeyPath, dotted

# The control every rule below implements.
SECRETS_PRACTICES = "Kubernetes Secrets good practices (no secret material in ConfigMaps or values)"
RULES = declare(
    Rule("secrets.literal", "no password, token or key is written literally in values, ConfigMaps or env; "
                            "use existingSecret",
         control=SECRETS_PRACTICES),
    Rule("secrets.rendered-secret", "the chart renders no Secret with data "
                                    "(secret material would come from values)",
         control=SECRETS_PRACTICES),
)
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "secret", "token", "credential",
                          "credentials", "apikey", "auth", "dsn"})
PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase"})
SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"),
                          ("signing", "key"), ("encryption", "key"), ("connection", "string")})
# Words that make a key a reference to, or a setting about, a secret rather than the secret itself.
FIRST_REFERENCE_WORDS = frozenset({"existing", "use", "create"})
LAST_REFERENCE_WORDS = frozenset({"name", "names", "ref", "file", "path", "dir", "enabled", "url", "uri",
                                  "endpoint", "header", "ttl", "seconds", "expiry", "length", "type",
                                  "mode", "audience", "issuer"})
HINT = "a Secret referenced by existingSecret"
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def key_words(key: str) -> list[str]:
    """`clientSecretName` -> [client, secret, name]; `API_TOKEN` -> [api, token]."""
    return [word.lower() for word in _WORD.findall(key)]


def secret_key(key: str) -> bool:
    """True when a key names secret material (and not a reference to it)."""
    words = key_words(key)
    if not words or words[0] in FIRST_REFERENCE_WORDS or words[-1] in LAST_REFERENCE_WORDS:
        return False
    pairs = zip(words, words[1:], strict=False)
    return bool(SECRET_WORDS.intersection(words)) or any(pair in SECRET_PAIRS for pair in pairs)


def looks_secret(key: str, value: Any) -> bool:
    """A secret-looking key holding a literal: a non-empty string, or a number under a password key."""
    if isinstance(value, str):
        return value.strip() != "" and secret_key(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return secret_key(key) and bool(PASSWORD_WORDS.intersection(key_words(key)))
    return False


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
    # A secret in values also shows up in the rendered env or ConfigMap; report it once, at its source.
    flagged: set[str] = set()
    for path, value in _walk(ctx.values, ()):
        if path and isinstance(path[-1], str) and looks_secret(path[-1], value):
            flagged.add(path[-1])
            yield ctx.fail("secrets.literal", None, dotted(path), f"values key {dotted(path)} holds a literal secret; "
                           "move it to a Secret and set existingSecret", expected=HINT, actual="<redacted>",
                           values_key=path)
    for config_map in ctx.manifests.of_kind("ConfigMap"):
        for key, value in (config_map.doc.get("data") or {}).items():
            if key not in flagged and looks_secret(key, value):
                yield ctx.fail("secrets.literal", config_map, f"data.{key}",
                               f"ConfigMap key {key} holds a literal secret", expected=HINT, actual="<redacted>")
    for ref in containers(ctx.manifests, include_hooks=True):
        for index, item in enumerate(ref.container.get("env") or []):
            name = str(item.get("name", ""))
            if name not in flagged and looks_secret(name, item.get("value")):
                yield ctx.fail("secrets.literal", ref.manifest, f"{ref.path}.env[{index}].value",
                               f"env {name} holds a literal secret", container=ref.name, expected=HINT,
                               actual="<redacted>", values_key=("extraEnv", name))
    for secret in ctx.manifests.of_kind("Secret"):
        keys = sorted({*(secret.doc.get("data") or {}), *(secret.doc.get("stringData") or {})})
        if keys:
            # Point at what is written: `stringData` when only it carries the material.
            field = "data" if secret.doc.get("data") or not secret.doc.get("stringData") else "stringData"
            yield ctx.fail("secrets.rendered-secret", secret, field, "the chart renders a Secret with data",
                           expected=f"no Secret in the chart; {HINT}", actual=f"keys {', '.join(keys)}")
