"""`python -m policies check --help` answers without loading what only a check run needs.

Counted in modules, not milliseconds (a timed unit test would be flaky on a shared machine):
scripts/benchmark.py measures the time.
"""

from __future__ import annotations

import subprocess
import sys

# What a check run needs and argument parsing does not: the schema validator, the process
# library that runs helm, the baseline differ, property-based testing, and the engine with its rules.
HEAVY = ("jsonschema", "sh", "deepdiff", "hypothesis", "policies.engine", "policies.rules", "statistics")


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
             "from policies.validation import validator_for\n"
             "validator_for(PACKAGE_DIR / 'budget.schema.json')\n"
             "print('jsonschema' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
