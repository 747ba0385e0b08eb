"""`helm install --dry-run=client` for every environment: the path `make install` takes, offline.

Unlike `helm template`, an install dry run also renders the hooks (the
`helm test` budget pod) as hooks and NOTES.txt. `helm install` has no
`--kube-version`; it renders for Helm's built-in Kubernetes version, so the
tests also prove its objects equal the ones `helm template --kube-version
DEFAULT_KUBE_VERSION` gives the policy checks: what the checks judged is what
gets installed. (Helm 3's `--dry-run=client` still asks a cluster for its
capabilities, so only the default Helm 4 can do this offline.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from policies import CHART_DIR
from policies.inputs.budget import load_budget
from policies.render.helm import DEFAULT_KUBE_VERSION, Helm
from policies.render.helmcalls import NAMESPACE, RELEASE_NAME, RenderSettings, values_file_for
from policies.render.manifests import Manifest, parse_manifests
from policies.render.render import render_environment

TEST_HOOK = "test"


@dataclass(frozen=True)
class DryRun:
    environment: str
    manifests: list[Manifest]
    hooks: list[dict[str, Any]]
    notes: str


def dry_run_install(helm: Helm, environment: str) -> DryRun:
    result = helm.run(
        "install", RELEASE_NAME, str(CHART_DIR), "--namespace", NAMESPACE,
        "--dry-run=client", "--output", "json", "--values", str(values_file_for(environment)),
    )
    release = json.loads(result.stdout)
    return DryRun(
        environment,
        parse_manifests(release["manifest"], origin=f"helm install --dry-run ({environment})"),
        release.get("hooks") or [],
        (release.get("info") or {}).get("notes") or "",
    )


@pytest.fixture(scope="module", params=load_budget().environments, ids=lambda env: f"env={env}")
def dry_run(request: pytest.FixtureRequest, helm: Helm) -> DryRun:
    return dry_run_install(helm, request.param)


def test_should_render_the_budget_test_pod_its_script_and_its_network_policy_as_test_hooks(dry_run: DryRun
                                                                                           ) -> None:
    tests = {(h["kind"], h["name"]) for h in dry_run.hooks if TEST_HOOK in (h.get("events") or [])}
    # The release name contains the chart name, so the full name is the release name.
    assert tests == {("Pod", f"{RELEASE_NAME}-budget-test"), ("ConfigMap", f"{RELEASE_NAME}-budget-test"),
                     ("NetworkPolicy", f"{RELEASE_NAME}-budget-test")}


def test_should_create_the_script_and_the_network_policy_before_the_pod(dry_run: DryRun) -> None:
    weights = {hook["kind"]: hook.get("weight", 0) for hook in dry_run.hooks}
    assert weights["ConfigMap"] < weights["Pod"] and weights["NetworkPolicy"] < weights["Pod"]


def test_should_render_notes_that_tell_how_to_run_the_budget_test(dry_run: DryRun) -> None:
    assert f"helm test {RELEASE_NAME} --namespace {NAMESPACE} --logs" in dry_run.notes
    assert f"deployed as release {RELEASE_NAME} in namespace {NAMESPACE}" in dry_run.notes


def test_should_install_exactly_the_objects_the_policy_checks_render(dry_run: DryRun, helm: Helm) -> None:
    # No --api-versions: a client-side dry run knows no cluster APIs either.
    client_side = RenderSettings(kube_version=DEFAULT_KUBE_VERSION, api_versions=())
    checked = render_environment(dry_run.environment, client_side, helm=helm)
    expected = {m.ref: m.doc for m in checked.manifests if not m.is_hook}
    installed = {m.ref: m.doc for m in dry_run.manifests}
    assert installed == expected


def test_should_keep_hooks_out_of_the_release_manifest(dry_run: DryRun) -> None:
    assert [m.ref for m in dry_run.manifests if m.is_hook] == []
