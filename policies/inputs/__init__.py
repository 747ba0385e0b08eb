"""Inputs: bounded YAML reading with line numbers, schema validation, and the budget as data."""
