"""The guard cluster tests' helpers, offline: the over-budget Pod and reading FailedCreate."""

from __future__ import annotations

from e2e.guards import failed_create, newest_replica_set, over_budget_memory, over_budget_pod
from policies.core.quantity import parse_memory
from policies.inputs.budget import Budget


def test_should_ask_one_mebibyte_over_the_budget(budget: Budget) -> None:
    assert over_budget_memory(budget, "production") == "1025Mi"
    pod = over_budget_pod("p", budget, "staging", "node:20-alpine")
    limits = pod["spec"]["containers"][0]["resources"]["limits"]
    assert parse_memory(limits["memory"]) == budget.resource_budget("staging", "limits", "memory") + 2**20


def replica_set(revision: str, conditions: list[dict]) -> dict:
    return {"metadata": {"annotations": {"deployment.kubernetes.io/revision": revision}},
            "status": {"conditions": conditions}}


def test_should_read_failed_create_from_the_newest_replica_set_only() -> None:
    failure = {"type": "ReplicaFailure", "reason": "FailedCreate", "message": 'pods "x" is forbidden: maximum'}
    old, new = replica_set("1", [failure]), replica_set("2", [])
    assert newest_replica_set([old, new]) is new
    assert failed_create(new) is None
    assert failed_create(replica_set("3", [failure])) == 'pods "x" is forbidden: maximum'
    assert failed_create(replica_set("3", [{**failure, "reason": "Other"}])) is None
    assert newest_replica_set([]) is None and failed_create(None) is None
