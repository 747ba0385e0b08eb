"""Hardening beyond the Pod Security Standards, for every pod rendered: the usual scanner checks.

The standard's controls are policies/checks/rules/pod_security.py; resources and probes
on every container are the resources and probes rules' business; the
NetworkPolicy in front of every pod is policies/checks/rules/network.py. This module
covers fixed high ids, the read-only root, images and the API token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.checks.rules._pods import ContainerRef, containers
from policies.core.docpath import dig
from policies.core.findings import Finding, Severity
from policies.core.ruledecl import HARDENED_DEFAULTS, Rule, declare
from policies.render.manifests import Manifest

RULES = declare(
    Rule("security.high-uid-gid", "containers run with a fixed high UID and GID (>= 10000), beyond the standard's "
                                  "non-zero UID", control=HARDENED_DEFAULTS),
    Rule("security.read-only-root", "the root filesystem is read-only",
         control=HARDENED_DEFAULTS),
    Rule("security.image-tag", "where the budget requires it, every image (the test image too) is pinned: a full "
                               "release tag (major.minor.patch, optionally -suffix) or a digest",
         control="policies/budget.yaml requirePinnedImageTag"),
    Rule("security.image-digest", "the service image is referenced by digest where the budget requires it",
         control="policies/budget.yaml requireImageDigest"),
    Rule("security.image-pull-policy", "imagePullPolicy is explicit",
         control=HARDENED_DEFAULTS),
    Rule("security.service-account-token", "the service account token is not mounted into pods",
         control=HARDENED_DEFAULTS),
    Rule("security.system-namespace", "no object sets metadata.namespace to default or kube-system (a warning)",
         control="project: applications stay out of the default and kube-system namespaces", severity=Severity.WARNING),
)
# Namespaces an application does not belong in: `default` collects whatever lands unplaced (and is rarely
# labelled for Pod Security admission); `kube-system` holds the control plane's own objects.
SYSTEM_NAMESPACES = ("default", "kube-system")
MIN_ID = 10000
# A full release tag: 1.0.0, v1.2.3, 20.18.1-alpine3.20. Floating tags (latest, 20-alpine, lts, 20.18) fail.
PINNED_TAG = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z][0-9A-Za-z._-]*)?$")


def _effective(pod: dict[str, Any], container: dict[str, Any], key: str) -> tuple[Any, str]:
    """A security setting and the values key that set it, falling back to the pod level as Kubernetes does."""
    own = dig(container, ("securityContext", key))
    if own is not None:
        return own, "securityContext"
    inherited = dig(pod, ("securityContext", key))
    return inherited, "podSecurityContext" if inherited is not None else "securityContext"


def split_image(image: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of an image reference; a registry port is not a tag."""
    reference, _, digest = image.partition("@")
    slash = reference.rfind("/")
    repository, colon, tag = reference.rpartition(":")
    if not colon or repository.rfind("/") != slash:
        return reference, "", digest
    return repository, tag, digest


def check(ctx: CheckContext) -> Iterator[Finding]:
    seen_pods: set[str] = set()
    for ref in containers(ctx.manifests, include_hooks=True):
        yield from _container_checks(ctx, ref)
        if ref.manifest.ref not in seen_pods:
            seen_pods.add(ref.manifest.ref)
            yield from _pod_checks(ctx, ref.manifest, ref.pod)
    for account in ctx.manifests.of_kind("ServiceAccount"):
        if account.doc.get("automountServiceAccountToken") is not False:
            yield ctx.fail("security.service-account-token", account, "automountServiceAccountToken",
                           "the ServiceAccount mounts its token by default", expected="false",
                           actual=str(account.doc.get("automountServiceAccountToken", "unset (true)")),
                           values_key=("serviceAccount", "automountToken"))
    for manifest in ctx.manifests:
        namespace = dig(manifest.doc, "metadata.namespace")
        if namespace in SYSTEM_NAMESPACES:
            yield ctx.warn("security.system-namespace", manifest, "metadata.namespace",
                           f"the object is placed in the {namespace} namespace",
                           expected="the application's own namespace", actual=namespace)


def _container_checks(ctx: CheckContext, ref: ContainerRef) -> Iterator[Finding]:
    pod, container, manifest = ref.pod, ref.container, ref.manifest
    sc = container.get("securityContext") or {}
    # Hook pods reuse the chart's security contexts; other keys do not apply to them.
    chart_owned = not manifest.is_completion_hook
    field = f"{ref.path}.securityContext"

    def setting(key: str) -> tuple[Any, tuple[str, ...]]:
        value, owner = _effective(pod, container, key)
        return value, (owner, key)

    for id_key in ("runAsUser", "runAsGroup"):
        value, key = setting(id_key)
        # An id the container inherits is fixed where it is written: the pod's securityContext.
        owner = f"{manifest.pod_spec_path()}.securityContext" if key[0] == "podSecurityContext" else field
        if isinstance(value, bool) or not isinstance(value, int) or value < MIN_ID:
            yield ctx.fail("security.high-uid-gid", manifest, f"{owner}.{id_key}", f"{id_key} is not a fixed high id",
                           container=ref.name, expected=f">= {MIN_ID}", actual=str("unset" if value is None else value),
                           values_key=key)
    if sc.get("readOnlyRootFilesystem") is not True:
        yield ctx.fail("security.read-only-root", manifest, f"{field}.readOnlyRootFilesystem",
                       "the root filesystem is writable", container=ref.name, expected="true",
                       actual=str(sc.get("readOnlyRootFilesystem", "unset")),
                       values_key=("securityContext", "readOnlyRootFilesystem"))
    if not container.get("imagePullPolicy"):
        yield ctx.fail("security.image-pull-policy", manifest, f"{ref.path}.imagePullPolicy",
                       "imagePullPolicy is left to the cluster default", container=ref.name,
                       expected="Always or IfNotPresent", actual="unset",
                       values_key=("image", "pullPolicy") if chart_owned else ("budgetTest", "image", "pullPolicy"))
    yield from _image_checks(ctx, ref)


def _image_checks(ctx: CheckContext, ref: ContainerRef) -> Iterator[Finding]:
    image = str(ref.container.get("image") or "")
    _, tag, digest = split_image(image)
    where = f"{ref.path}.image"
    if ctx.env_budget.get("requirePinnedImageTag") and not digest and not PINNED_TAG.match(tag):
        key = ("image", "tag") if not ref.manifest.is_completion_hook else ("budgetTest", "image", "tag")
        message = f"image {image!r} is not pinned: {tag or 'no'} tag can move"
        yield ctx.fail("security.image-tag", ref.manifest, where, message, container=ref.name,
                       expected="a full release tag (major.minor.patch[-suffix]) or @sha256 digest",
                       actual=image or "unset", values_key=key)
    if ctx.env_budget.get("requireImageDigest") and not ref.manifest.is_completion_hook and not digest:
        yield ctx.fail("security.image-digest", ref.manifest, where, f"image {image!r} is not referenced by digest",
                       container=ref.name, expected="repository@sha256:<digest> (set image.digest)",
                       actual=image or "unset", values_key=("image", "digest"))


def _pod_checks(ctx: CheckContext, manifest: Manifest, pod: dict[str, Any]) -> Iterator[Finding]:
    base = manifest.pod_spec_path()
    if pod.get("automountServiceAccountToken") is not False:
        yield ctx.fail("security.service-account-token", manifest, f"{base}.automountServiceAccountToken",
                       "the API token is mounted into the pod", expected="false",
                       actual=str(pod.get("automountServiceAccountToken", "unset (true)")),
                       values_key=("serviceAccount", "automountToken"))
