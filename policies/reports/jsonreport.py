"""JSON: an object with `summary`, `findings`, `budget_usage` and `measurements`."""

from __future__ import annotations

import json

from policies.core.outcome import Outcome


def render(outcome: Outcome) -> str:
    return json.dumps(outcome.to_dict(), indent=2, sort_keys=False) + "\n"
