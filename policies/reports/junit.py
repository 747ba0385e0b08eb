"""JUnit XML for CI test reports: one testsuite per environment, one testcase per rule."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from policies.outcome import Outcome
from policies.rules import rule_summaries


def render(outcome: Outcome) -> str:
    rules = rule_summaries()
    suites = ET.Element("testsuites", name="performance-budget")
    for environment in outcome.environments:
        env_findings = [f for f in outcome.findings if f.environment in (environment, None)]
        suite = ET.SubElement(suites, "testsuite", name=f"budget.{environment}")
        failures = 0
        for rule, summary in rules.items():
            case = ET.SubElement(suite, "testcase", classname=f"budget.{environment}", name=rule)
            hits = [f for f in env_findings if f.rule == rule]
            failing = [f for f in hits if f.fails]
            if failing:
                failures += 1
                node = ET.SubElement(case, "failure", message=failing[0].message, type=rule)
                node.text = "\n".join(
                    f"{f.resource or ''} {f.field or ''}: expected {f.expected}, found {f.actual} ({f.where})"
                    for f in failing)
            elif hits:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"{f.effective_severity}: {f.message} ({f.where})" for f in hits)
            else:
                ET.SubElement(case, "system-out").text = summary
        for measurement in (m for m in outcome.measurements if m.environment in (environment, None)):
            seconds = f"{measurement.value:.3f}" if measurement.unit == "s" else "0"
            case = ET.SubElement(suite, "testcase", classname=f"budget.{environment}.timing",
                                 name=measurement.name, time=seconds)
            if measurement.status == "failure" and outcome.mode == "enforce":
                failures += 1
                ET.SubElement(case, "failure", message=f"{measurement.value} {measurement.unit} > "
                                                       f"{measurement.limit} {measurement.unit}")
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(failures))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
