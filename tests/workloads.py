"""Builders for the workload kinds beyond Deployment, each around the same hardened pod (tests/builders.py)."""

from __future__ import annotations

from typing import Any

from builders import NAME, SELECTOR, _apply, pod_spec


def _template(containers: list[dict[str, Any]] | None, spec: dict[str, Any] | None) -> dict[str, Any]:
    return {"metadata": {"labels": dict(SELECTOR)}, "spec": pod_spec(containers, **(spec or {}))}


def statefulset(update_strategy: dict[str, Any] | None = None, replicas: int = 2,
                containers: list[dict[str, Any]] | None = None, spec: dict[str, Any] | None = None,
                **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"replicas": replicas, "serviceName": NAME, "selector": {"matchLabels": dict(SELECTOR)},
                            "template": _template(containers, spec)}
    if update_strategy is not None:
        body["updateStrategy"] = update_strategy
    return _apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": NAME}, "spec": body},
                  overrides)


def daemonset(update_strategy: dict[str, Any] | None = None, containers: list[dict[str, Any]] | None = None,
              spec: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"selector": {"matchLabels": dict(SELECTOR)}, "template": _template(containers, spec)}
    if update_strategy is not None:
        body["updateStrategy"] = update_strategy
    return _apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": NAME}, "spec": body},
                  overrides)


def job(containers: list[dict[str, Any]] | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    template = _template(containers, {"restartPolicy": "Never", **(spec or {})})
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"{NAME}-job"},
            "spec": {"template": template}}


def cronjob(containers: list[dict[str, Any]] | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    template = _template(containers, {"restartPolicy": "Never", **(spec or {})})
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": f"{NAME}-cron"},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}}


def runtime_class(name: str, cpu: str | None = None, memory: str | None = None) -> dict[str, Any]:
    fixed = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    doc: dict[str, Any] = {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": name},
                           "handler": name}
    if fixed:
        doc["overhead"] = {"podFixed": fixed}
    return doc
