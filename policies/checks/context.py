"""What a policy sees: one environment's manifests, its budget, and where values came from; and how it reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.core.findings import Finding, Severity
from policies.inputs.budget import Budget
from policies.render.manifests import Manifest, ManifestIndex
from policies.render.render import ValuesLayers


@dataclass(frozen=True)
class CheckContext:
    environment: str
    budget: Budget
    manifests: ManifestIndex
    # None when checking manifests rendered elsewhere (--manifests).
    layers: ValuesLayers | None = None

    @property
    def env_budget(self) -> dict[str, Any]:
        return self.budget.environment(self.environment)

    @property
    def values(self) -> dict[str, Any]:
        return self.layers.merged if self.layers else {}

    def fail(self, rule: str, manifest: Manifest | None, field: str | None, message: str, **details: Any
             ) -> Finding:
        """A failure of `rule` in this environment, on `manifest` at `field`: how every rule reports.

        The manifest gives the finding its resource and the template that rendered it; the engine turns
        that, or a `values_key`, into the file and line to fix. `details` are the other Finding fields:
        expected, actual, container, values_key, values_keys, and `resource` for something that is not
        a rendered object (a kind the render lacks). A finding about values alone has no manifest.
        """
        return self._finding(Severity.FAILURE, rule, manifest, field, message, details)

    def warn(self, rule: str, manifest: Manifest | None, field: str | None, message: str, **details: Any
             ) -> Finding:
        """A warning of `rule`, placed as `fail` places a failure."""
        return self._finding(Severity.WARNING, rule, manifest, field, message, details)

    def _finding(self, severity: Severity, rule: str, manifest: Manifest | None, field: str | None, message: str,
                 details: dict[str, Any]) -> Finding:
        where = {"resource": manifest.ref, "source": manifest.source} if manifest is not None else {}
        return Finding(rule=rule, severity=severity, message=message, environment=self.environment, field=field,
                       **where, **details)
