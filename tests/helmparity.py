"""Helm 3 / Helm 4 parity, a test helper: both pinned helms must render every environment to the same objects.

A property of the chart the tests prove (tests/test_parity.py), not a rule of
`check`: its findings carry the id `parity.helm-versions`, which the rule
catalogue does not list.

Investigated with Helm 4.1.4 and 3.17.3: given the same `--kube-version` and
`--api-versions`, their `helm template` output for this chart is byte-for-byte
identical in every environment, so nothing is neutralized here; the objects are
compared exactly (document order aside: both are indexed by `Kind/name`). The
one known default that differs is the cluster version each helm assumes
(Helm 4: 1.35, Helm 3: 1.32), which reaches templates as
`.Capabilities.KubeVersion`; it is pinned, never neutralized, and renders made
for different cluster versions are refused rather than compared.
"""

from __future__ import annotations

from policies.core.errors import InputError
from policies.core.findings import Finding, failure
from policies.render.diffing import describe, diff_documents, index_documents
from policies.render.render import Render


def check_parity(environment: str, reference: Render, other: Render) -> list[Finding]:
    """One `parity.helm-versions` failure per field that `other` renders differently from `reference`."""
    if reference.kube_version != other.kube_version:
        raise InputError(
            f"cannot compare renders made for different cluster versions: {reference.helm_version} "
            f"rendered for {reference.kube_version}, {other.helm_version} for {other.kube_version}",
            key="kube_version")
    differences = diff_documents(index_documents(reference.manifests), index_documents(other.manifests))
    sources = {m.ref: m.source for m in [*reference.manifests, *other.manifests]}
    return [
        failure(
            "parity.helm-versions",
            f"helm {other.helm_version} renders {environment} differently from helm {reference.helm_version}",
            environment=environment,
            resource=d.resource,
            field=d.path or None,
            expected=describe(d.old),
            actual=describe(d.new),
            source=sources.get(d.resource),
        )
        for d in differences
    ]
