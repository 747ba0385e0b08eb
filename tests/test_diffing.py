"""The shared diff report: `Kind/name field.path: old -> new`, list items matched by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from snapshotkit import summarize

from policies.render.diffing import ABSENT, Difference, diff_documents, index_documents
from policies.render.manifests import Manifest


def compare_renders(old: Mapping[str, dict[str, Any]] | Iterable[Manifest],
                    new: Mapping[str, dict[str, Any]] | Iterable[Manifest]) -> list[str]:
    """Readable lines `Kind/name path: old -> new`; empty when the renders hold the same objects."""
    def as_index(objects: Mapping[str, dict[str, Any]] | Iterable[Manifest]) -> Mapping[str, dict[str, Any]]:
        return objects if isinstance(objects, Mapping) else index_documents(objects)
    return [str(d) for d in diff_documents(as_index(old), as_index(new))]


def deployment(**container: Any) -> dict[str, Any]:
    base = {"name": "app", "image": "repo/app:1", "ports": [{"name": "http", "containerPort": 3000}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"helm.sh/chart": "c-1"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{**base, **container}]}}},
    }


def test_should_report_nothing_for_identical_renders() -> None:
    assert compare_renders(index_documents([deployment()]), index_documents([deployment()])) == []


def test_should_name_resource_path_and_both_values() -> None:
    lines = compare_renders([deployment()], [deployment(image="repo/other:1")])

    assert lines == [
        'Deployment/web spec.template.spec.containers[name=app].image: "repo/app:1" -> "repo/other:1"'
    ]


def test_should_match_named_list_items_by_name_not_position() -> None:
    ports = [{"name": "metrics", "containerPort": 9464}, {"name": "http", "containerPort": 3000}]

    differences = diff_documents(index_documents([deployment()]), index_documents([deployment(ports=ports)]))

    assert [d.path for d in differences] == ["spec.template.spec.containers[name=app].ports[name=metrics]"]
    assert differences[0].old is ABSENT
    assert differences[0].new == {"name": "metrics", "containerPort": 9464}


def test_should_report_a_reordered_named_list_by_index() -> None:
    ports = [{"name": "http", "containerPort": 3000}, {"name": "metrics", "containerPort": 9464}]

    lines = compare_renders([deployment(ports=ports)], [deployment(ports=list(reversed(ports)))])

    assert any("ports[0].name" in line for line in lines), lines


def test_should_quote_keys_that_are_not_plain_names() -> None:
    changed = deployment()
    changed["metadata"]["labels"]["helm.sh/chart"] = "c-2"

    lines = compare_renders([deployment()], [changed])

    assert lines == ['Deployment/web metadata.labels["helm.sh/chart"]: "c-1" -> "c-2"']


def test_should_tell_a_string_from_a_number() -> None:
    changed = deployment()
    changed["spec"]["replicas"] = "1"

    assert compare_renders([deployment()], [changed]) == ['Deployment/web spec.replicas: 1 -> "1"']


def test_should_name_each_key_of_a_map_that_shares_no_key_with_its_old_self() -> None:
    changed = deployment()
    changed["metadata"]["labels"] = {"team": "forge"}

    lines = compare_renders([deployment()], [changed])

    assert lines == [
        'Deployment/web metadata.labels.team: (absent) -> "forge"',
        'Deployment/web metadata.labels["helm.sh/chart"]: "c-1" -> (absent)',
    ]


def test_should_show_only_the_changed_lines_of_a_multi_line_string() -> None:
    script = "\n".join(f"line {n}" for n in range(1, 30))
    old = {"kind": "ConfigMap", "metadata": {"name": "script"}, "data": {"run.mjs": script}}
    new = {"kind": "ConfigMap", "metadata": {"name": "script"}, "data": {"run.mjs": script.replace("line 7", "seven")}}

    (line,) = compare_renders([old], [new])

    assert line.splitlines() == [
        "ConfigMap/script data[\"run.mjs\"]: text changed (old -> new):",
        "    - 7: line 7",
        "    + 7: seven",
    ]


def test_should_report_whole_objects_that_appear_or_disappear() -> None:
    service = {"kind": "Service", "metadata": {"name": "web"}}

    differences = diff_documents(index_documents([deployment()]), index_documents([deployment(), service]))

    assert differences == [Difference("Service/web", "", ABSENT, service)]
    assert str(differences[0]).startswith("Service/web: (absent) -> {")


def test_should_refuse_two_objects_with_the_same_kind_and_name() -> None:
    with pytest.raises(ValueError, match="Deployment/web"):
        index_documents([deployment(), deployment()])


def test_should_cut_long_reports() -> None:
    text = summarize([f"line {n}" for n in range(5)], limit=2)

    assert text.splitlines() == ["  line 0", "  line 1", "  ... and 3 more"]
