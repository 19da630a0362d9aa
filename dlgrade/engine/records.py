"""Records the engine hands to the checks: submissions, runs, probes, figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from dlgrade.engine.paths import RefusedLink
from dlgrade.records import Observation, ObservationKind

SourceKind = Literal["ipynb", "py"]
SourceStatus = Literal["ok", "malformed"]
RunStatus = Literal["ok", "errors", "timeout", "died", "interfered", "malformed", "not-run"]
CellStatus = Literal["ok", "error", "timeout", "skipped"]

# A value that crossed the sandbox boundary: a numeric array or plain JSON data.
ProbeValue = np.ndarray | None | bool | int | float | str | list | dict


@dataclass(frozen=True)
class SourceFile:
    """One notebook or .py file of a submission."""

    path: Path
    kind: SourceKind
    status: SourceStatus
    problem_ids: tuple[str, ...] = ()
    error: str | None = None
    # Content tags (e.g. "relu-fit", "softmax-jacobian"); problem ids derive from them.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Submission:
    """A student's folder: its sources and how they map to problems."""

    path: Path
    name: str
    sources: tuple[SourceFile, ...]
    answers: Path | None
    problems: dict[str, tuple[SourceFile, ...]]
    issues: tuple[str, ...] = ()
    # Links in the folder (to anywhere, even inside it): never read, run or graded.
    links: tuple[RefusedLink, ...] = ()

    def for_problem(self, problem_id: str) -> tuple[SourceFile, ...]:
        """The sources that hold `problem_id` (empty when none does)."""
        return self.problems.get(problem_id, ())


@dataclass(frozen=True)
class Probe:
    """Code a check runs inside the student's kernel to read values out.

    `code` runs in the kernel's global namespace with `_dlgrade_inputs` (dict of
    numpy arrays) and `_dlgrade_emit(key, value)` defined; new names it leaves
    behind are removed. `after=()` runs it after the whole notebook; otherwise
    right after the first cell after which all `after` names are defined.
    """

    name: str
    code: str
    inputs: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))
    after: tuple[str, ...] = ()
    # The homework problem (p3, p4, p5) whose state the probe reads. In a notebook
    # holding several problems it runs right after that problem's last cell, so a
    # later problem's timeout cannot take its results with it (see dlgrade.engine.sections).
    problem: str | None = None


@dataclass(frozen=True)
class Watch:
    """Code run silently in the kernel after every code cell: the run's value history.

    `code` runs in the student's namespace like a probe, with
    `_dlgrade_keep(key, value)` (the same value rules as `_dlgrade_emit`) and
    `_dlgrade_memory`, a dict private to this watch that lasts the whole run (for
    fingerprints of what was already kept). `_dlgrade_keep` stays callable after
    the watch returns, so a watch may wrap a student function (say, to keep the
    weights after each epoch). Whatever is kept, by the watch or by such a hook,
    is attributed to the cell that just ran; keeps made while a probe runs are
    ignored. Once `budget_bytes` have been kept the watch keeps nothing more
    and the run notes it.
    """

    name: str
    code: str
    budget_bytes: int = 16 << 20


@dataclass(frozen=True)
class Kept:
    """One value a watch kept: after which cell, under which key, in what order."""

    cell_index: int
    key: str
    value: Any
    seq: int


@dataclass(frozen=True)
class ProbeResult:
    """What one probe emitted (validated), or why it has nothing."""

    name: str
    values: dict[str, Any]
    error: str | None = None
    # Set when the probe has nothing because the kernel stopped before or while it ran:
    # KERNEL_DIED, TIMEOUT (time limit), INTERFERED or MALFORMED (never started).
    stopped_by: ObservationKind | None = None


@dataclass(frozen=True)
class CellResult:
    """The outcome of one code cell."""

    index: int
    status: CellStatus
    error_name: str | None = None
    error_value: str | None = None
    output_bytes: int = 0
    # Stored text output (streams, text/plain, tracebacks), capped; for people, not grading.
    text: str = ""
    first_line: str = ""  # the cell's first non-blank source line, to name it to people
    duration_s: float = 0.0


@dataclass(frozen=True)
class FigureRecord:
    """A matplotlib figure the notebook rendered (shown or saved).

    `axes` are dicts in the format `dlgrade.engine.figures` validates (texts,
    position, lines, bars, scatter points, images with small pixel data).
    `figure_id` tells renders of one matplotlib figure apart from another's
    (a figure saved and then shown is rendered twice); `png` is a small,
    validated PNG of the figure for people (only the first few figures have one).
    """

    index: int
    cell_index: int | None
    axes: tuple[dict, ...]
    suptitle: str = ""
    figure_id: int | None = None
    png: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NotebookRun:
    """Everything observed while running one source file."""

    source: SourceFile
    status: RunStatus
    cells: tuple[CellResult, ...]
    probes: dict[str, ProbeResult]
    observations: tuple[Observation, ...]
    figures: tuple[FigureRecord, ...]
    isolation: str
    duration_s: float
    # Watch name -> what it kept, in order (see Watch); empty when no watch ran.
    history: Mapping[str, tuple[Kept, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def kept(self, watch: str) -> tuple[Kept, ...]:
        """What watch `watch` kept over the run, in order (empty if it kept nothing)."""
        return tuple(self.history.get(watch, ()))

    def probe(self, name: str) -> ProbeResult:
        """The result of probe `name`; KeyError names the probes that exist."""
        try:
            return self.probes[name]
        except KeyError:
            raise KeyError(f"no probe {name!r} in this run; have {sorted(self.probes)}") from None
