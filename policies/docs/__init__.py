"""`python -m policies docs`: the generated docs/budget.md, the chart README's values table and the
Grafana dashboard with its picture."""
