"""Sandboxed execution of student notebooks, with probes for the checks.

    from dlgrade.engine import discover, run_notebook, Probe, SandboxConfig
    submission = discover(Path("submissions/alice"))
    run = run_notebook(submission.for_problem("p5")[0], [Probe("w", CODE)], SandboxConfig(quick=True))

The engine knows nothing about problems' grading; see docs/DESIGN.md.
"""

from dlgrade.engine.config import SandboxConfig
from dlgrade.engine.discover import discover
from dlgrade.engine.errors import (
    EngineError,
    InterfaceError,
    KernelStartError,
    SandboxUnavailable,
    ValueMismatch,
)
from dlgrade.engine.records import (
    CellResult,
    FigureRecord,
    Kept,
    NotebookRun,
    Probe,
    ProbeResult,
    SourceFile,
    Submission,
    Watch,
)
from dlgrade.engine.runner import run_notebook
from dlgrade.engine.values import expect_array, expect_number

__all__ = [
    "CellResult",
    "EngineError",
    "FigureRecord",
    "InterfaceError",
    "Kept",
    "KernelStartError",
    "NotebookRun",
    "Probe",
    "ProbeResult",
    "SandboxConfig",
    "SandboxUnavailable",
    "SourceFile",
    "Submission",
    "ValueMismatch",
    "Watch",
    "discover",
    "expect_array",
    "expect_number",
    "run_notebook",
]
