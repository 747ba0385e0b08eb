"""Reports for a run that stopped on bad input (exit 2), in every format.

Written over whatever an earlier run left in --reports-dir or --output, so no
file there can show a verdict for a run that never happened.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from policies.core.errors import EXIT_INPUT_ERROR, InputError
from policies.reports.github import input_error
from policies.reports.html import error_page

HEADLINE = "ERROR: the check stopped on bad input (exit 2); nothing was judged"


def _json(error: InputError) -> str:
    summary = {"status": "error", "passed": False, "exit_code": EXIT_INPUT_ERROR, "message": str(error),
               "file": error.file, "line": error.line, "column": error.column, "key": error.key}
    report = {"summary": summary, "findings": [], "budget_usage": [], "measurements": []}
    return json.dumps(report, indent=2) + "\n"


def _markdown(error: InputError) -> str:
    return "\n".join(["# Performance budget check", "", f"**{HEADLINE}**", "", "```", str(error), "```", ""])


def _junit(error: InputError) -> str:
    suites = ET.Element("testsuites", name="performance-budget", tests="1", errors="1")
    suite = ET.SubElement(suites, "testsuite", name="budget.input", tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname="budget.input", name="input")
    ET.SubElement(case, "error", message=error.message, type="input-error").text = str(error)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _html(error: InputError) -> str:
    return error_page(HEADLINE, str(error))


def _table(error: InputError) -> str:
    return f"{HEADLINE}\n  {error}\n"


ERROR_FORMATS = {"json": _json, "markdown": _markdown, "junit": _junit, "github": input_error, "table": _table,
                 "html": _html}


def render_input_error(error: InputError, fmt: str) -> str:
    return ERROR_FORMATS[fmt](error)
