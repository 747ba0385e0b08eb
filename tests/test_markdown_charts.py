"""The Markdown report's charts (and the status column of its budget-use table).

Whether mermaid renders the charts is tested in test_mermaid_charts.py.
"""

from __future__ import annotations

from report_samples import sample_outcome
from test_mermaid_charts import mermaid_blocks

from policies.cli import main
from policies.reports import markdown, table


def test_should_start_with_the_verdict_and_hold_both_charts_at_the_head_of_their_sections(capsys) -> None:
    code = main(["check", "--format", "markdown", "--timing-runs", "1"])
    report = capsys.readouterr().out
    assert code in (0, 1)
    lines = report.splitlines()
    assert lines[0] == "# Performance budget check" and lines[2].startswith(("**PASS", "**FAIL", "**WARN"))
    blocks = mermaid_blocks(report)
    assert len(blocks) == 2
    for section, title in (("## Budget use", "Budget use (% of budget)"), ("## Measurements", "Timings (% of limit)")):
        head = report.split(section + "\n", 1)[1].split("\n| ", 1)[0]  # everything above the section's table
        assert f'title "{title}"' in head


def test_should_chart_each_figure_with_the_100_percent_line_and_name_at_and_over_budget() -> None:
    budget, timings = mermaid_blocks(markdown.render(sample_outcome()))
    assert budget.splitlines() == [
        "xychart-beta horizontal",
        '    title "Budget use (% of budget)"',
        '    x-axis ["development cpu request", "development memory limit (at budget)", '
        '"production cpu request (OVER)", "production memory limit (at budget)"]',
        '    y-axis "% of budget" 0 --> 150',
        "    bar [50, 100, 130, 100]",
        "    line [100, 100, 100, 100]",
    ]
    assert timings.splitlines()[2:] == [
        '    x-axis ["development helm lint", "production helm template (at budget)", "helm package (OVER)"]',
        '    y-axis "% of limit" 0 --> 125',
        "    bar [50, 100, 120]",
        "    line [100, 100, 100]",
    ]


def test_should_mark_rows_at_and_over_budget_differently_in_the_tables() -> None:
    outcome = sample_outcome()
    rows = [line for line in markdown.render(outcome).splitlines() if line.startswith("| development |")
            or line.startswith("| production |")][:4]
    assert rows == [
        "| development | cpu request | 25m | 50m | 50.0 % | \u2713 within budget |",
        "| development | memory limit | 256Mi | 256Mi | 100.0 % | = at budget |",
        "| production | cpu request | 325m | 250m | 130.0 % | **\u25b2 over budget** |",
        "| production | memory limit | 1Gi | 1Gi | 100.0 % | = at budget |",
    ]
    terminal = [line.split() for line in table.render(outcome).splitlines()]
    assert ["production", "cpu", "request", "325m", "250m", "130.0", "%", "\u25b2", "over", "budget"] in terminal
    assert ["production", "memory", "limit", "1Gi", "1Gi", "100.0", "%", "=", "at", "budget"] in terminal
