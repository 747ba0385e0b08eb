"""JUnit XML for CI test reports.

One testsuite per environment with a testcase per rule, plus a `budget.pipeline`
suite for what belongs to no single environment (helm package, CI figures,
baseline regressions, waivers) and a testcase per measurement.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from policies.findings import Finding
from policies.outcome import Outcome
from policies.rules import rule_summaries


def _case(suite: ET.Element, classname: str, name: str, hits: list[Finding], summary: str) -> bool:
    """Add a testcase; True when it failed."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    failing = [f for f in hits if f.fails]
    if failing:
        node = ET.SubElement(case, "failure", message=failing[0].message, type=name)
        node.text = "\n".join(
            f"{f.resource or ''} {f.field or ''}: expected {f.expected}, found {f.actual} ({f.where})"
            for f in failing)
    else:
        ET.SubElement(case, "system-out").text = "\n".join(
            f"{f.effective_severity}: {f.message} ({f.where})" for f in hits) or summary
    return bool(failing)


def render(outcome: Outcome) -> str:
    rules = rule_summaries()
    suites = ET.Element("testsuites", name="performance-budget")
    for scope in [*outcome.environments, None]:
        classname = f"budget.{scope or 'pipeline'}"
        scoped = [f for f in outcome.findings if f.environment == scope]
        suite = ET.SubElement(suites, "testsuite", name=classname)
        failures = 0
        names = rules if scope else sorted({f.rule for f in scoped})
        for rule in names:
            failures += _case(suite, classname, rule, [f for f in scoped if f.rule == rule], rules.get(rule, ""))
        for measurement in (m for m in outcome.measurements if m.environment == scope):
            seconds = f"{measurement.value:.3f}" if measurement.unit == "s" else "0"
            case = ET.SubElement(suite, "testcase", classname=f"{classname}.measurements",
                                 name=measurement.name, time=seconds)
            ET.SubElement(case, "system-out").text = (
                f"{measurement.value:g} {measurement.unit} (limit {measurement.limit}, {measurement.status})")
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(failures))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
