"""What the in-notebook checks reach in the student's kernel: IPython's shell and the shim.

The lowest module of `dlgrade.student`: the recorder, the live runs and the
session all use these two, so they live apart from all three and the three
import each other in one direction only (session -> live -> recorder).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from dlgrade.engine.sandbox import SHIM_DIR


def ipython() -> Any:
    """The running IPython shell, or None (a plain script, or IPython not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def shim_modules() -> tuple[Any, Any, Any]:
    """The kernel-side probe, history and values modules (`_dlgrade_shim`), imported here.

    They import nothing from dlgrade and install nothing when imported (that
    is `_dlgrade_shim.install`, which only the sandbox calls).
    """
    path = str(SHIM_DIR)
    sys.path.insert(0, path)
    try:
        modules = tuple(
            importlib.import_module(f"_dlgrade_shim.{name}")
            for name in ("probe", "history", "values")
        )
    finally:
        sys.path.remove(path)
    return modules  # type: ignore[return-value]
