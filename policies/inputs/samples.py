"""How many samples check takes of each helm operation: --timing-runs, else $POLICIES_TIMING_RUNS, else one.

Its own module so that the command line can name the default without importing the timing code.
"""

from __future__ import annotations

import os

from policies.core.errors import InputError

DEFAULT_RUNS = 1
RUNS_VARIABLE = "POLICIES_TIMING_RUNS"


def default_runs() -> int:
    """Timed runs per operation: $POLICIES_TIMING_RUNS, else DEFAULT_RUNS."""
    text = os.environ.get(RUNS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_RUNS
    if not text.isdigit():
        raise InputError(f"expected a whole number of timed runs (0 disables timing), found {text!r}",
                         key=RUNS_VARIABLE)
    return int(text)
