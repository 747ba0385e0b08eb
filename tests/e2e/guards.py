"""What the guard cluster tests send and read: an over-budget Pod, and the newest ReplicaSet's FailedCreate."""

from __future__ import annotations

from typing import Any

from policies.core.quantity import format_memory
from policies.inputs.budget import Budget

OVER_BY_BYTES = 2**20  # one mebibyte over the budget


def over_budget_memory(budget: Budget, environment: str) -> str:
    """The environment's per-pod memory limit plus one mebibyte, as a quantity."""
    return format_memory(budget.resource_budget(environment, "limits", "memory") + OVER_BY_BYTES)


def over_budget_pod(name: str, budget: Budget, environment: str, image: str) -> dict[str, Any]:
    """A Pod the restricted Pod Security Standard admits whose memory limit is one mebibyte over the budget."""
    memory = over_budget_memory(budget, environment)
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never", "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "over-budget", "image": image, "command": ["sleep", "3600"],
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "10m", "memory": memory}, "limits": {"cpu": "10m", "memory": memory}},
            }],
        },
    }


def newest_replica_set(replica_sets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ReplicaSet of the Deployment's latest revision."""
    def revision(rs: dict[str, Any]) -> int:
        return int((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
    return max(replica_sets, key=revision, default=None)


def failed_create(replica_set: dict[str, Any] | None) -> str | None:
    """The message of the ReplicaSet's ReplicaFailure condition when its reason is FailedCreate, else None."""
    for condition in ((replica_set or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("reason") == "FailedCreate":
            return str(condition.get("message", ""))
    return None
