"""The assignment manifests (`*.toml` beside this file) and their loader."""

from reference.manifest import (
    Assignment,
    ManifestError,
    Part,
    list_assignments,
    load_assignment,
    load_manifest,
)

__all__ = [
    "Assignment",
    "ManifestError",
    "Part",
    "list_assignments",
    "load_assignment",
    "load_manifest",
]
