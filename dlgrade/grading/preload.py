"""Import every module the grader may use before any student code runs.

In the `user` isolation mode the grader's files are root-only, so a notebook cannot
change them; importing them all first also means nothing the grader runs after the
notebooks is read from disk then (a check helper, the report renderer), whatever
happened to the disk meanwhile. Test modules and conftests are left to pytest, which
imports (and rewrites) them at collection, before any notebook runs.
"""

from __future__ import annotations

import importlib
import pkgutil

PACKAGES = ("dlgrade", "reference", "reports", "checks")
# Not part of grading one submission: other front ends, and code that runs in kernels.
SKIPPED = (
    "dlgrade.__main__",
    "dlgrade.grading.cluster",
    "dlgrade.student",
    "dlgrade.engine.shim",
    "checks.kernel",
)


def grader_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            leaf = info.name.rsplit(".", 1)[-1]
            if info.name.startswith(SKIPPED) or leaf.startswith("test_") or leaf == "conftest":
                continue
            names.append(info.name)
    return names


def preload_grader() -> None:
    """Import them all (an import error is the harness's bug, and raises here)."""
    for name in grader_modules():
        importlib.import_module(name)
