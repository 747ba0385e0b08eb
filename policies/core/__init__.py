"""The vocabulary every stage shares, importing no stage: errors and file paths, atomic writes,
quantities, and the records that flow (Rule declarations, Finding, Measurement, Outcome)."""
