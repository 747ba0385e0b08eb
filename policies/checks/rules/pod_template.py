"""Every workload has a pod to run: a pod template (a Pod: its spec) with at least one container.

The API server refuses the object otherwise, yet the strict schema accepts a null template and an empty
container list, and a workload without a pod spec drops out of every pod rule (Manifest.pod_spec() is None):
without this rule such a render would pass the gate.

What the Kubernetes API requires, as its OpenAPI definitions say (the `required` lists and descriptions in the
definitions the schema check validates against, io.k8s.api.* in kubernetes-validate's 1.31-1.35 files; the API
reference, https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/, prints the same lists):
- DeploymentSpec, StatefulSetSpec, DaemonSetSpec and JobSpec require `template`. ReplicaSetSpec and
  ReplicationControllerSpec list it as optional, but validation still demands a pod template with containers,
  so the object is refused all the same.
- CronJobSpec requires `schedule` and `jobTemplate`, and the Job it makes needs its template.
- PodSpec requires `containers` ("containers ([]Container), required"), and its description says "There must be
  at least one container in a Pod".
- A JSON (or YAML) null decodes as if the field were absent: Go's encoding/json sets a pointer, map or slice to
  nil and leaves any other value untouched, "because null is often used in JSON to mean 'not present'"
  (https://github.com/golang/go/issues/33835 quotes the encoding/json documentation). So `template: null` is a
  missing template, and `containers: null` or `[]` is a pod without containers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.checks.context import CheckContext
from policies.core.findings import Finding
from policies.core.ruledecl import Rule, declare
from policies.render.manifests import WORKLOAD_KINDS, Manifest

RULE = "pod.containers-present"
RULES = declare(
    Rule(RULE, "every workload has a pod template (a Pod: a spec) with at least one container "
               "(the API server rejects it otherwise; the strict schema accepts a null template)",
         control="Kubernetes API: workload specs require `template`; PodSpec requires at least one container"),
)
# The path from the object to its pod's containers, by kind (every other workload kind: spec.template.spec).
_CONTAINERS_PATHS = {
    "Pod": ("spec", "containers"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec", "containers"),
}
_TEMPLATE_CONTAINERS = ("spec", "template", "spec", "containers")


def check(ctx: CheckContext) -> Iterator[Finding]:
    for manifest in ctx.manifests:
        if manifest.kind in WORKLOAD_KINDS:
            finding = _missing_pod(ctx, manifest)
            if finding is not None:
                yield finding


def _missing_pod(ctx: CheckContext, manifest: Manifest) -> Finding | None:
    """A failure at the first part of the path to the containers that is missing or null (or, for the
    containers themselves, empty); None when the pod has a container or a part has a wrong type (that is the
    Kubernetes schema's finding)."""
    path = _CONTAINERS_PATHS.get(manifest.kind, _TEMPLATE_CONTAINERS)
    node: Any = manifest.doc
    for depth, key in enumerate(path, start=1):
        value = node.get(key)
        last = depth == len(path)
        if value is None or (last and value == []):
            field = ".".join(path[:depth])
            actual = "absent" if key not in node else ("null" if value is None else "[]")
            pod = "a pod spec" if manifest.kind == "Pod" else "a pod template"
            what = "at least one container" if last else f"{pod} with at least one container"
            reason = "Required value" if value is None else "must have at least one container"
            return ctx.fail(RULE, manifest, field,
                            f"the API server rejects this object: {field}: {reason} ({manifest.kind} "
                            f"{manifest.name} has no pod to run)", expected=what, actual=actual)
        if not isinstance(value, dict):
            return None  # a list of containers, or a wrong type the schema reports
        node = value
    return None
