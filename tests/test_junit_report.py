"""JUnit as CI viewers read it: testsuites → testsuite → testcase (classname, name, time) with
failure, skipped and system-err; a testcase only for checks that ran, warnings and waivers visible."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from policies.cli import main
from policies.core.paths import display_path

TODAY = "2026-11-27"
LIVENESS = "spec.template.spec.containers[0].livenessProbe.periodSeconds"


def junit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, ET.Element]:
    code = main(["check", "--format", "junit", "--timing-runs", "0", "--today", TODAY, *args])
    return code, ET.fromstring(capsys.readouterr().out)


def cases(root: ET.Element, suite: str) -> dict[str, ET.Element]:
    [found] = [s for s in root.iter("testsuite") if s.get("name") == suite]
    return {case.get("name"): case for case in found.iter("testcase")}


@pytest.fixture
def slow_liveness(tmp_path: Path) -> Path:
    path = tmp_path / "liveness.yaml"
    path.write_text("# slower liveness\nprobes:\n  liveness:\n    periodSeconds: 20\n", encoding="utf-8")
    return path


def test_should_list_only_checks_that_ran_when_timing_is_off(capsys: pytest.CaptureFixture[str]) -> None:
    code, root = junit(capsys, "--env", "staging")

    assert code == 0 and root.tag == "testsuites"
    assert [s.get("name") for s in root] == ["budget.staging", "budget.pipeline"]
    for suite in root:
        assert {child.tag for child in suite} == {"testcase"}
        assert suite.get("tests") == str(len(suite)) and suite.get("failures") == "0"
        assert float(suite.get("time")) == pytest.approx(sum(float(c.get("time")) for c in suite), abs=0.01)
        for case in suite:
            assert case.get("classname", "").startswith(suite.get("name")) and case.get("name")
            assert float(case.get("time")) >= 0
            assert case.find("skipped") is None and case.find("failure") is None
    staging, pipeline = cases(root, "budget.staging"), cases(root, "budget.pipeline")
    assert {"probes.period", "schema.kubernetes", "drift.unexpected", "render"} <= set(staging)
    assert not {name for name in staging if name.startswith(("chart.", "waiver.", "pipeline.", "regression."))}
    assert sorted(pipeline) == ["budget.review-due", "chart.metadata"]
    # The timing.* rules over probes and grace periods ran (they read the manifests); helm was not timed.
    assert not [case.get("name") for case in root.iter("testcase")
                if case.get("name").startswith(("timing.helm-", "pipeline.", "helm"))]
    assert root.get("tests") == str(sum(len(s) for s in root)) and root.get("skipped") == "0"


def test_should_say_the_same_of_a_timing_off_run_in_every_report(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--format", "json", "--timing-runs", "0", "--today", TODAY, "--env", "staging"])
    report = json.loads(capsys.readouterr().out)
    not_asked = {c["rule"]: c["skipped"] for c in report["checks"] if not c["wanted"]}
    timing_off = sorted(rule for rule, why in not_asked.items() if why == "--timing-runs 0: helm is not timed")
    wanted = {c["rule"] for c in report["checks"] if c["wanted"]}

    assert [m["name"] for m in report["measurements"]] == ["render"]
    assert timing_off == ["helm.error", "pipeline.helm-validation", "timing.helm-lint", "timing.helm-package",
                          "timing.helm-template"]
    assert not {rule for rule in wanted if rule.startswith(("timing.helm-", "helm.", "pipeline."))}
    for fmt in ("table", "markdown"):
        main(["check", "--format", fmt, "--timing-runs", "0", "--today", TODAY, "--env", "staging"])
        text = capsys.readouterr().out
        assert "helm validation" not in text and "helm lint" not in text and "helm package" not in text


def test_should_skip_with_the_reason_what_manifests_input_cannot_check(
    capsys: pytest.CaptureFixture[str], render_env, tmp_path: Path
) -> None:
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(render_env("staging").text, encoding="utf-8")

    code, root = junit(capsys, "--env", "staging", "--manifests", str(manifests))

    staging, pipeline = cases(root, "budget.staging"), cases(root, "budget.pipeline")
    assert code == 0
    skipped = {name: case.find("skipped").get("message") for name, case in {**staging, **pipeline}.items()
               if case.find("skipped") is not None}
    # The reason is the element's text too: GitLab reads only that.
    assert all(case.find("skipped").text == skipped[name] for name, case in {**staging, **pipeline}.items()
               if name in skipped)
    assert skipped == {
        "drift.unexpected": "--manifests: no chart render to compare with the defaults",
        "chart.metadata": "--manifests: no chart is read",
    }
    assert [s.get("skipped") for s in root] == ["1", "1"]


def test_should_skip_the_helm_timings_asked_for_that_manifests_input_cannot_give(
    capsys: pytest.CaptureFixture[str], render_env, tmp_path: Path
) -> None:
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(render_env("staging").text, encoding="utf-8")

    main(["check", "--format", "junit", "--timing-runs", "1", "--today", TODAY, "--env", "staging",
          "--manifests", str(manifests)])
    root = ET.fromstring(capsys.readouterr().out)

    pipeline = cases(root, "budget.pipeline")
    skipped = {name: case.find("skipped").get("message") for name, case in pipeline.items()
               if case.find("skipped") is not None}
    assert skipped == {"chart.metadata": "--manifests: no chart is read",
                       **{rule: "--manifests: helm is not run" for rule in (
                           "helm.error", "timing.helm-lint", "timing.helm-template", "timing.helm-package",
                           "pipeline.helm-validation")}}
    assert sorted(pipeline) == sorted([*skipped, "budget.review-due"])


def test_should_show_a_warning_as_system_err_and_a_property(
    capsys: pytest.CaptureFixture[str], slow_liveness: Path
) -> None:
    code, root = junit(capsys, "--env", "staging", "--values", str(slow_liveness), "--mode", "warn")

    case = cases(root, "budget.staging")["probes.period"]
    expected = (f"Deployment/prompted-forge-mcp {LIVENESS}: liveness probe interval 20s is outside 5-10s "
                f"({display_path(slow_liveness)}:4)")
    assert case.find("failure") is None
    assert case.find("system-err").text == f"warning: {expected}"
    assert [(p.get("name"), p.get("value")) for p in case.iter("property")] == [("warning", expected)]


def test_should_show_a_waived_finding_with_the_reason_and_expiry(
    capsys: pytest.CaptureFixture[str], slow_liveness: Path, tmp_path: Path
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [{
        "rule": "probes.period", "environment": "staging", "reason": "probe load test, ticket OPS-7",
        "expires": "2026-12-31"}]}, sort_keys=False), encoding="utf-8")

    code, root = junit(capsys, "--env", "staging", "--values", str(slow_liveness), "--mode", "enforce",
                       "--waivers", str(waivers))

    case = cases(root, "budget.staging")["probes.period"]
    assert case.find("failure") is None
    [waived] = [p.get("value") for p in case.iter("property") if p.get("name") == "waived"]
    assert waived.endswith("— waived until 2026-12-31: probe load test, ticket OPS-7")
    assert case.find("system-out").text == f"waived: {waived}"
    assert {"waiver.expired", "waiver.unused", "waiver.unknown"} <= set(cases(root, "budget.pipeline"))
