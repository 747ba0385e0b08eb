"""One cause, one finding: findings of one rule that point at the same line are reported once.

A values line such as `metrics.enabled: true` reaches a container port, an
environment variable, a Service port and a ServiceMonitor; four findings (and
four annotations on one line) would read as four problems. The first finding
leads; `affects` lists every object and field the cause reaches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from policies.core.findings import Finding


def _reach(finding: Finding) -> tuple[str, ...]:
    return finding.affects or (f"{finding.resource or ''} {finding.field or ''}".strip(),)


def group_by_cause(findings: Iterable[Finding]) -> list[Finding]:
    """Merge findings sharing rule, environment, file, line and outcome; others pass through unchanged."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    order: list[tuple[object, ...] | Finding] = []
    for finding in findings:
        if not (finding.file and finding.line):
            order.append(finding)
            continue
        key = (finding.rule, finding.environment, finding.file, finding.line, finding.effective_severity,
               finding.waived_by)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(finding)
    result: list[Finding] = []
    for item in order:
        if isinstance(item, Finding):
            result.append(item)
            continue
        lead, *rest = groups[item]
        if not rest:
            result.append(lead)
            continue
        also = "; ".join(f"{f.message} ({' '.join(_reach(f)[:1])})" for f in rest)
        affects = tuple(dict.fromkeys(place for f in (lead, *rest) for place in _reach(f)))
        result.append(dataclasses.replace(lead, message=f"{lead.message}; from the same line: {also}",
                                          affects=affects))
    return result
