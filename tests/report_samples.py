"""A hand-made Outcome for report tests: every status a chart or table can show, with known percentages."""

from __future__ import annotations

from policies.core.findings import failure, warning
from policies.core.outcome import Measurement, Outcome

# (environment, kind, resource, used, budget, percent, status)
USAGE = [
    ("development", "requests", "cpu", "25m", "50m", 50.0, "within"),
    ("development", "limits", "memory", "256Mi", "256Mi", 100.0, "at"),
    ("production", "requests", "cpu", "325m", "250m", 130.0, "over"),
    ("production", "limits", "memory", "1Gi", "1Gi", 100.0, "at"),
]
# (name, environment, seconds, limit, status); percentages 50, 100 and 120 of the limit
TIMINGS = [
    ("helm lint", "development", 2.5, 5.0, "ok"),
    ("helm template", "production", 10.0, 10.0, "ok"),
    ("helm package", None, 3.6, 3.0, "failure"),
]


def sample_outcome(baseline: bool = True) -> Outcome:
    findings = [
        failure("resources.within-budget", "requests.cpu 325m is over the budget 250m <by 75m>",
                environment="production", resource="Deployment/prompted-forge-mcp",
                field="resources.requests.cpu", expected="<= 250m", actual="325m",
                file="charts/prompted-forge-mcp/values-production.yaml", line=12),
        warning("regression.rendered-totals", "rendered objects.ConfigMap changed since the baseline: 2 → 3",
                environment="development", field="objects.ConfigMap", expected="2 (baseline)", actual="3",
                file="policies/baseline.json"),
    ]
    usage = [{"environment": env, "resource": "Deployment/prompted-forge-mcp", "kind": kind, "name": name,
              "actual": used, "budget": allowed, "percent": percent, "status": status}
             for env, kind, name, used, allowed, percent, status in USAGE]
    measurements = [Measurement("render", "s", 0.4, None, "ok", "development")]
    measurements += [Measurement(name, "s", value, limit, status, env, p95=value, samples=3,
                                 rule=f"timing.{name.replace(' ', '-')}")
                     for name, env, value, limit, status in TIMINGS]
    totals = [{"environment": "development", "figure": "objects", "baseline": "8", "current": "9"},
              {"environment": "development", "figure": "limits memory", "baseline": "256Mi", "current": "256Mi"}]
    return Outcome(mode="enforce", phase="3.4.4", environments=["development", "production"], findings=findings,
                   usage=usage, measurements=measurements, baseline_totals=totals if baseline else [])
