"""What a policy sees: one environment's manifests, its budget, and where values came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.inputs.budget import Budget
from policies.render.manifests import ManifestIndex
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
