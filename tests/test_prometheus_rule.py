"""The PrometheusRule's alerts: PromQL that parses, thresholds present, names and labels that make sense.

Expressions are checked by promql_parser (Prometheus' grammar), not by eye. Each
check is a small function returning problems, run on the chart's rendered rule
(production enables it; the other environments are rendered with it enabled)
and on a hand-made bad alert, so every check is seen to fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import promql_parser
import pytest
import yaml
from alertrules import (
    Alert,
    alerts_of,
    duration_seconds,
    matcher_names,
    output_labels,
    selectors,
    syntax_errors,
    threshold,
)

from policies.inputs.budget import load_budget
from policies.render.helm import Helm
from policies.render.helmcalls import RenderSettings
from policies.render.render import Render, render_environment

ALERT_NAME = re.compile(r"^PromptedForgeMCP[A-Z][A-Za-z0-9]*$")
SEVERITIES = frozenset({"info", "warning", "critical"})
REQUIRED_ANNOTATIONS = ("summary", "description")
# Every selector must stay inside the release's namespace and pods.
SCOPE_MATCHERS = frozenset({"namespace", "pod"})
LABEL_REFERENCE = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")


def threshold_problems(alert: Alert) -> list[str]:
    problems = []
    if threshold(alert) is None:
        problems.append(f"alert {alert.name}: expression does not end in a comparison with a number")
    if alert.duration is None:
        problems.append(f"alert {alert.name}: no `for:` duration, so one bad scrape fires it")
    else:
        try:
            duration_seconds(alert)
        except ValueError as exc:
            problems.append(f"alert {alert.name}: `for: {alert.duration}` is not a Prometheus duration ({exc})")
    return problems


def naming_problems(alerts: list[Alert]) -> list[str]:
    problems = [f"alert {a.name}: name should match {ALERT_NAME.pattern}"
                for a in alerts if not ALERT_NAME.match(a.name)]
    names = [a.name for a in alerts]
    problems += [f"alert {name}: defined {names.count(name)} times" for name in sorted(set(names))
                 if names.count(name) > 1]
    return problems


def label_problems(alert: Alert) -> list[str]:
    problems = []
    severity = alert.labels.get("severity")
    if severity not in SEVERITIES:
        problems.append(f"alert {alert.name}: label severity should be one of {sorted(SEVERITIES)}, found {severity!r}")
    problems += [f"alert {alert.name}: annotation {key} is missing or empty"
                 for key in REQUIRED_ANNOTATIONS if not str(alert.annotations.get(key, "")).strip()]
    expr = promql_parser.parse(alert.expr)
    for selector in selectors(expr):
        missing = SCOPE_MATCHERS - matcher_names(selector)
        if missing:
            problems.append(f"alert {alert.name}: selector {selector.name} is not scoped by {sorted(missing)}")
    kept = output_labels(expr)
    if kept is not None:
        for key, text in alert.annotations.items():
            for label in LABEL_REFERENCE.findall(str(text)):
                if label not in kept:
                    problems.append(f"alert {alert.name}: annotation {key} uses $labels.{label}, "
                                    f"but the expression keeps only {sorted(kept)}")
    return problems


@pytest.fixture(scope="module", params=load_budget().environments, ids=lambda env: f"env={env}")
def alerts(request: pytest.FixtureRequest, helm: Helm, tmp_path_factory: pytest.TempPathFactory) -> list[Alert]:
    """The alerts of an environment rendered with the rule enabled: it must be right wherever it is turned on."""
    overlay = tmp_path_factory.mktemp("rule") / "enable-rule.yaml"
    overlay.write_text(yaml.safe_dump({"monitoring": {"prometheusRule": {"enabled": True}}}), encoding="utf-8")
    found = alerts_of(render_environment(request.param, RenderSettings(extra_values=(overlay,)), helm=helm).manifests)
    assert found, f"{request.param}: no alerts rendered with monitoring.prometheusRule.enabled"
    return found


BAD_ALERTS = {
    "unparsable": Alert("PromptedForgeMCPBroken", 'sum(rate(x{namespace="n", pod="p"}[5m])', "5m",
                        {"severity": "warning"}, {"summary": "s", "description": "d"}),
    "no threshold": Alert("PromptedForgeMCPNoThreshold", 'rate(x{namespace="n", pod="p"}[5m])', "5m",
                          {"severity": "warning"}, {"summary": "s", "description": "d"}),
    "bad duration": Alert("PromptedForgeMCPBadFor", 'x{namespace="n", pod="p"} > 1', "5 minutes",
                          {"severity": "warning"}, {"summary": "s", "description": "d"}),
    "bad labels": Alert("PromptedForgeMCPBadLabels", 'sum by (namespace) (x{namespace="n"}) > 1', "5m",
                        {"severity": "page"}, {"summary": "", "description": "Pod {{ $labels.pod }} is slow"}),
}


def test_should_parse_every_alert_expression(alerts: list[Alert]) -> None:
    assert syntax_errors(alerts) == []


def test_should_reject_an_expression_the_promql_parser_cannot_parse() -> None:
    [error] = syntax_errors([BAD_ALERTS["unparsable"]])
    assert error.startswith("alert PromptedForgeMCPBroken: unclosed left parenthesis")


def test_should_give_every_alert_a_threshold_and_a_duration(alerts: list[Alert]) -> None:
    assert [problem for alert in alerts for problem in threshold_problems(alert)] == []


def test_should_report_an_alert_without_a_threshold_or_a_valid_duration() -> None:
    assert threshold_problems(BAD_ALERTS["no threshold"]) == [
        "alert PromptedForgeMCPNoThreshold: expression does not end in a comparison with a number"
    ]
    [problem] = threshold_problems(BAD_ALERTS["bad duration"])
    assert problem.startswith("alert PromptedForgeMCPBadFor: `for: 5 minutes` is not a Prometheus duration")


def test_should_name_alerts_uniquely_in_the_chart_prefix(alerts: list[Alert]) -> None:
    assert naming_problems(alerts) == []


def test_should_report_a_badly_named_or_duplicated_alert() -> None:
    good = BAD_ALERTS["no threshold"]
    bad = Alert("cpu_high", good.expr)
    assert naming_problems([good, good, bad]) == [
        f"alert cpu_high: name should match {ALERT_NAME.pattern}",
        "alert PromptedForgeMCPNoThreshold: defined 2 times",
    ]


def test_should_scope_label_and_annotate_every_alert(alerts: list[Alert]) -> None:
    assert [problem for alert in alerts for problem in label_problems(alert)] == []


def test_should_report_bad_severity_missing_annotation_unscoped_selector_and_dropped_label() -> None:
    assert label_problems(BAD_ALERTS["bad labels"]) == [
        "alert PromptedForgeMCPBadLabels: label severity should be one of ['critical', 'info', 'warning'], "
        "found 'page'",
        "alert PromptedForgeMCPBadLabels: annotation summary is missing or empty",
        "alert PromptedForgeMCPBadLabels: selector x is not scoped by ['pod']",
        "alert PromptedForgeMCPBadLabels: annotation description uses $labels.pod, "
        "but the expression keeps only ['namespace']",
    ]


def test_should_disable_the_rule_by_default(render_env: Callable[[str], Render]) -> None:
    budget = load_budget()
    without_rule = [env for env in budget.environments if env != "production"]
    assert all(render_env(env).manifests.of_kind("PrometheusRule") == [] for env in without_rule)
