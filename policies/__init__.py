"""Performance-budget policy harness for the Prompted Forge MCP chart.

Data flows one way: values files + budget data -> render (helm template) ->
manifests -> checks -> findings -> reports and the exit code.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CHART_DIR = REPO_ROOT / "charts" / "prompted-forge-mcp"
BUDGET_FILE = PACKAGE_DIR / "budget.yaml"
WAIVERS_FILE = PACKAGE_DIR / "waivers.yaml"
