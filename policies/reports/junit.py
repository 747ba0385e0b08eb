"""JUnit XML for CI test reports.

One testsuite per environment with a testcase per rule check that ran there,
plus a `budget.pipeline` suite for what belongs to no single environment
(chart metadata, helm timings, CI figures, baseline regressions, waivers) and a
testcase per measurement. A check the run did not ask for (timing off, no CI
figures, no baseline, no waivers) has no testcase; one asked for that this
input cannot support (drift with --manifests) is `<skipped>` with the reason;
neither is ever a pass. There is no single JUnit schema; this writes what the
common viewers read (README: "JUnit" names which viewer shows what, from each one's parser):

- failure: `<failure message type>` with the details as text (GitLab shows only the text);
- skipped: the reason as `message` (Jenkins) and as text (GitLab);
- warning: `<system-err>` text and a `warning` property (Jenkins shows both, the property
  with keepProperties; GitLab and dorny/test-reporter show nothing of a passed test);
- waived: `<system-out>` with the waiver's reason and expiry, and a `waived` property;
- `time` on every suite and testcase, in seconds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from policies.core.findings import Finding
from policies.core.outcome import CheckRun, Measurement, Outcome


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _describe(finding: Finding) -> str:
    place = f"{finding.resource or ''} {finding.field or ''}".strip()
    where = f" ({finding.where})" if finding.where else ""
    return f"{place + ': ' if place else ''}{finding.message}{where}"


def _waived(finding: Finding) -> str:
    return f"{_describe(finding)} — waived until {finding.waiver_expires}: {finding.waiver_reason}"


def _case(suite: ET.Element, classname: str, run: CheckRun, hits: list[Finding], summary: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=run.rule, time=_seconds(run.seconds))
    warnings = [f for f in hits if f.effective_severity == "warning"]
    waived = [f for f in hits if f.effective_severity == "waived"]
    failing = [f for f in hits if f.fails]
    if warnings or waived:
        properties = ET.SubElement(case, "properties")
        for finding in warnings:
            ET.SubElement(properties, "property", name="warning", value=_describe(finding))
        for finding in waived:
            ET.SubElement(properties, "property", name="waived", value=_waived(finding))
    if not run.ran:
        # The reason twice: Jenkins reads the message attribute, GitLab only the element's text.
        ET.SubElement(case, "skipped", message=run.skipped or "").text = run.skipped or ""
    if failing:
        node = ET.SubElement(case, "failure", message=failing[0].message, type=run.rule)
        node.text = "\n".join(
            f"{f.resource or ''} {f.field or ''}: expected {f.expected}, found {f.actual} ({f.where})"
            for f in failing)
    out = [f"waived: {_waived(f)}" for f in waived] or ([summary] if run.ran and not failing else [])
    if out:
        ET.SubElement(case, "system-out").text = "\n".join(out)
    if warnings:
        ET.SubElement(case, "system-err").text = "\n".join(f"warning: {_describe(f)}" for f in warnings)


def _measurement_case(suite: ET.Element, classname: str, measurement: Measurement) -> None:
    seconds = measurement.value if measurement.unit == "s" else 0.0
    case = ET.SubElement(suite, "testcase", classname=f"{classname}.measurements", name=measurement.name,
                         time=_seconds(seconds))
    text = (f"{measurement.value:g} {measurement.unit} (limit {measurement.limit}, {measurement.status}, "
            f"{_samples(measurement.samples)})")
    if measurement.status == "failure":
        ET.SubElement(case, "failure", message=text, type=measurement.rule or measurement.name)
    elif measurement.status == "warning":
        ET.SubElement(case, "system-err").text = f"warning: {text}"
    else:
        ET.SubElement(case, "system-out").text = text


def _runs_for(outcome: Outcome, scope: str | None, scoped: list[Finding]) -> list[CheckRun]:
    """The scope's check runs, plus a run for any rule that reported here without one (never hide a finding)."""
    runs = [run for run in outcome.checks if run.environment == scope and run.wanted]
    known = {run.rule for run in runs}
    extra = sorted({f.rule for f in scoped} - known)
    # A rule whose finding lands here although it was planned elsewhere (a helm timing of one environment).
    return runs + [CheckRun(rule, scope) for rule in extra]


def render(outcome: Outcome) -> str:
    # Imported when a JUnit report is written: the rule modules are not needed to parse arguments.
    from policies.catalogue import rule_summaries  # lazy: start-up speed

    rules = rule_summaries()
    suites = ET.Element("testsuites", name="performance-budget")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for scope in [*outcome.environments, None]:
        classname = f"budget.{scope or 'pipeline'}"
        scoped = [f for f in outcome.findings if f.environment == scope]
        suite = ET.SubElement(suites, "testsuite", name=classname)
        for run in _runs_for(outcome, scope, scoped):
            _case(suite, classname, run, [f for f in scoped if f.rule == run.rule], rules.get(run.rule, ""))
        for measurement in (m for m in outcome.measurements if m.environment == scope):
            _measurement_case(suite, classname, measurement)
        counts = {
            "tests": len(suite),
            "failures": sum(1 for case in suite if case.find("failure") is not None),
            "errors": 0,
            "skipped": sum(1 for case in suite if case.find("skipped") is not None),
            "time": sum(float(case.get("time", "0")) for case in suite),
        }
        for key, value in counts.items():
            suite.set(key, _seconds(value) if key == "time" else str(value))
            if key in totals:
                totals[key] += value
    for key, value in totals.items():
        suites.set(key, _seconds(value) if key == "time" else str(int(value)))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _samples(count: int) -> str:
    return f"{count} sample{'s' if count != 1 else ''}"
