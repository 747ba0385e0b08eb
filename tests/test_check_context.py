"""How a rule makes a finding: ctx.fail and ctx.warn place it in the environment, on the object and its template."""

from __future__ import annotations

from policies.checks.context import CheckContext
from policies.core.findings import Finding, Severity
from policies.inputs.budget import load_budget
from policies.render.manifests import Manifest, ManifestIndex

DEPLOYMENT = Manifest({"kind": "Deployment", "metadata": {"name": "web"}}, source="chart/templates/deployment.yaml")
CTX = CheckContext("staging", load_budget(), ManifestIndex([DEPLOYMENT]))


def test_should_place_a_failure_on_the_manifest_and_its_template() -> None:
    finding = CTX.fail("rollout.max-surge", DEPLOYMENT, "spec.strategy.rollingUpdate.maxSurge", "no surge pod",
                       expected=">= 1", actual="0", values_key=("rollout", "maxSurge"), container="app")
    assert finding == Finding(rule="rollout.max-surge", severity=Severity.FAILURE, message="no surge pod",
                              environment="staging", resource="Deployment/web", container="app",
                              field="spec.strategy.rollingUpdate.maxSurge", expected=">= 1", actual="0")
    # compare=False fields: the hints the engine turns into a file and line
    assert (finding.source, finding.values_key) == ("chart/templates/deployment.yaml", ("rollout", "maxSurge"))


def test_should_make_a_warning_the_same_way() -> None:
    finding = CTX.warn("security.system-namespace", DEPLOYMENT, "metadata.namespace", "in default")
    assert (finding.severity, finding.resource, finding.source, finding.environment) == (
        Severity.WARNING, "Deployment/web", "chart/templates/deployment.yaml", "staging")


def test_should_name_a_resource_that_is_not_rendered_or_none_at_all() -> None:
    missing = CTX.fail("guard.present", None, None, "no LimitRange", resource="LimitRange")
    values_only = CTX.warn("values.no-effect", None, "replicaCount", "no effect", values_key=("replicaCount",))
    assert (missing.resource, missing.source, missing.field) == ("LimitRange", None, None)
    assert (values_only.resource, values_only.source, values_only.values_key) == (None, None, ("replicaCount",))
