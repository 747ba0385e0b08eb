"""The path accessor the rules read documents with: missing, null and empty parts, falsy values kept."""

from __future__ import annotations

from typing import Any

import pytest

from policies.core.docpath import dig, mapping_at

DOC: dict[str, Any] = {
    "spec": {
        "replicas": 0,
        "paused": False,
        "selector": {},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}},
        "strategy": None,
        "minReadySeconds": "",
        "scopes": [],
    },
    "metadata": {"annotations": {"helm.sh/hook": "test"}},
}


@pytest.mark.parametrize(("path", "expected"), [
    ("spec.template.metadata.labels", {"app": "web"}),
    ("spec.template.metadata.labels.app", "web"),
    (("metadata", "annotations", "helm.sh/hook"), "test"),
    # falsy values at the end of the path are returned as they are, not replaced by the default
    ("spec.replicas", 0),
    ("spec.paused", False),
    ("spec.minReadySeconds", ""),
    ("spec.scopes", []),
    ("spec.selector", {}),
    ("spec.template.spec.containers", []),
], ids=str)
def test_should_return_the_value_at_the_path_as_it_is(path: Any, expected: Any) -> None:
    assert dig(DOC, path, default="default") == expected
    assert type(dig(DOC, path, default="default")) is type(expected)


@pytest.mark.parametrize("path", [
    "status",  # missing key
    "spec.strategy",  # null value
    "spec.strategy.rollingUpdate",  # null on the way
    "spec.template.metadata.annotations.x",  # missing on the way
    "spec.replicas.x",  # 0 on the way: empty, as `(x.get(k) or {})` read it
    "spec.paused.x",  # false on the way
    "spec.minReadySeconds.x",  # "" on the way
    "spec.scopes.x",  # [] on the way
    "spec.selector.matchLabels",  # {} on the way
], ids=str)
def test_should_give_the_default_when_a_part_is_missing_null_or_empty(path: str) -> None:
    assert dig(DOC, path) is None
    assert dig(DOC, path, default="default") == "default"


def test_should_give_the_default_for_an_empty_or_missing_document() -> None:
    assert dig(None, "spec.replicas", 1) == 1
    assert dig({}, "spec.replicas", 1) == 1


@pytest.mark.parametrize(("doc", "message"), [
    ({"spec": [{"template": {}}]}, "cannot read 'template': spec is not a mapping (found list)"),
    ({"spec": {"template": "text"}}, "cannot read 'spec': spec.template is not a mapping (found str)"),
    ({"spec": {"template": 3}}, "cannot read 'spec': spec.template is not a mapping (found int)"),
    (["a"], "cannot read 'spec': the document is not a mapping (found list)"),
], ids=["list", "string", "number", "document"])
def test_should_refuse_a_non_mapping_that_is_not_empty_on_the_way(doc: Any, message: str) -> None:
    # `.get` on it raised AttributeError; the engine turns either into bad input when the schema rejects the document.
    with pytest.raises(TypeError) as raised:
        dig(doc, "spec.template.spec")
    assert str(raised.value) == message


def test_should_not_walk_into_lists() -> None:
    with pytest.raises(TypeError):
        dig({"items": [{"name": "a"}]}, "items.0")


@pytest.mark.parametrize(("path", "expected"), [
    ("spec.template.metadata", {"labels": {"app": "web"}}),
    ("spec.strategy", {}),  # null
    ("spec.replicas", {}),  # 0, read as empty like `x.get(k) or {}`
    ("spec.scopes", {}),  # []
    ("status", {}),  # missing
], ids=str)
def test_should_give_the_mapping_or_an_empty_one(path: str, expected: Any) -> None:
    assert mapping_at(DOC, path) == expected


def test_should_return_a_non_mapping_as_it_is_for_the_caller_to_refuse() -> None:
    assert mapping_at({"spec": {"resources": [{"cpu": "1"}]}}, "spec.resources") == [{"cpu": "1"}]
