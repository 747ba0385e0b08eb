"""Judging the findings before the verdict: waivers (the waivers file and its application) and
grouping findings that share one cause."""
