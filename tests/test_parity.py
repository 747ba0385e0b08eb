"""Helm 3 / Helm 4 parity: both pinned helms render every environment to identical objects."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from helmparity import check_parity

from policies.core.errors import InputError
from policies.render.render import Render


def test_should_render_every_environment_identically_with_helm_3_and_helm_4(
    rendered: Render, render_env_helm3: Callable[[str], Render]
) -> None:
    helm3 = render_env_helm3(rendered.environment)
    assert (rendered.helm_version[:2], helm3.helm_version[:2]) == ("v4", "v3")

    findings = check_parity(rendered.environment, rendered, helm3)

    assert findings == [], "\n".join(f"{f.resource} {f.field}: {f.expected} -> {f.actual}" for f in findings)
    assert len(helm3.manifests) == len(rendered.manifests)


def test_should_name_resource_and_path_of_a_difference(
    render_env: Callable[[str], Render], render_overlay: Callable[..., Render]
) -> None:
    other = render_overlay("staging", {"podLabels": {"rollout": "canary"}})

    findings = check_parity("staging", render_env("staging"), other)

    assert [(f.rule, f.resource, f.field, f.expected, f.actual) for f in findings] == [
        ("parity.helm-versions", "Deployment/prompted-forge-mcp", "spec.template.metadata.labels.rollout",
         "(absent)", '"canary"')
    ]
    assert findings[0].environment == "staging"


def test_should_refuse_renders_made_for_different_cluster_versions(
    render_env: Callable[[str], Render],
) -> None:
    render = render_env("staging")

    with pytest.raises(InputError, match="different cluster versions"):
        check_parity("staging", render, dataclasses.replace(render, kube_version="1.30.0"))
