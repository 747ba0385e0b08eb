"""Render: the pinned helm, values layers rendered into manifests indexed by `Kind/name`, and
the field-level diff of two renders."""
