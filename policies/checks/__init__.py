"""Checks: the rule families (`rules/`) over one environment's CheckContext, and the other stages
(Kubernetes schemas, Chart.yaml, drift, helm timing, CI figures, baseline, phase targets, review)."""
