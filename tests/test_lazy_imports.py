"""`python -m policies check --help` answers without loading what only a check run needs.

Counted in modules, not milliseconds (a timed unit test would be flaky on a shared machine):
scripts/benchmark.py measures the time.
"""

from __future__ import annotations

import subprocess
import sys

# What a check run needs and argument parsing does not: the schema validator, the YAML parser, the process
# library that runs helm, the baseline differ, property-based testing, the engine with its rules, the
# background helm runner and the report writers.
HEAVY = ("jsonschema", "yaml", "sh", "deepdiff", "hypothesis", "policies.engine", "policies.checks.rules", "statistics",
         "policies.helmwork", "policies.inputs.budget", "policies.judging.waivers", "policies.reports.html",
         "policies.reports.junit", "policies.reports.markdown")


def test_should_parse_arguments_without_importing_the_engine_or_its_libraries():
    probe = ("import sys\n"
             "from policies.cli import build_parser\n"
             "build_parser().format_help()\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_should_load_the_schema_validator_when_a_schema_is_first_used():
    probe = ("import sys\n"
             "from policies import PACKAGE_DIR\n"
             "from policies.inputs.validation import validator_for\n"
             "validator_for(PACKAGE_DIR / 'budget.schema.json')\n"
             "print('jsonschema' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_should_answer_check_help_through_the_command_without_importing_the_engine_or_its_libraries():
    probe = ("import contextlib, io, sys\n"
             "from policies.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
             "    main(['check', '--help'])\n"
             "assert '--timing-runs' in out.getvalue()\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
