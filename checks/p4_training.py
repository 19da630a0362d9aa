"""How the student's training went: the P4 watch's history, read and explained.

The watch (checks/kernel/p4_watch.py) counts optimizer steps per first-layer
weight after every cell and keeps the first rows the first layer received in
training and in evaluation. From that the grader tells which model was
trained, in which cells, whether a time limit cut the training short (and at
which epoch), and why a model was never trained at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from checks.probes import P4_WATCH
from dlgrade.engine import CellResult, InterfaceError, NotebookRun, expect_array
from dlgrade.engine.cells import cell_problem, describe_cell, why_undefined
from dlgrade.engine.notebooks import MalformedSource, load_notebook

_CAPTURE = re.compile(r"^in_(train|eval)_(\d+)$")
# Code that trains: a cell failing with one of these in it is the training that failed.
TRAINING_CODE = re.compile(r"\.backward\(|\.step\(|\bfit\(|\btrain\w*\(|for\s+\w*epoch", re.I)
_UNDEFINED = re.compile(r"name '(\w+)' is not defined")


@dataclass(frozen=True)
class TrainingTrace:
    """What the watch saw. `steps` is None when it never ran with torch loaded."""

    hooked_cell: int | None
    steps: dict[int, int] | None  # first-layer weight id -> optimizer steps, at the end
    steps_after: dict[int, dict[int, int]] = field(default_factory=dict)  # cell -> counts then
    captures: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)

    def steps_of(self, weight_ids: tuple[int, ...]) -> int | None:
        if self.steps is None:
            return None
        return sum(self.steps.get(i, 0) for i in weight_ids)

    def steps_in_cells(self, weight_ids: tuple[int, ...]) -> dict[int, int]:
        """Cell index -> optimizer steps of this model during that cell."""
        per_cell, before = {}, 0
        for cell in sorted(self.steps_after):
            now = sum(self.steps_after[cell].get(i, 0) for i in weight_ids)
            if now > before:
                per_cell[cell] = now - before
            before = now
        return per_cell

    def inputs(self, weight_ids: tuple[int, ...], mode: str) -> np.ndarray | None:
        rows = [self.captures[(i, mode)] for i in weight_ids if (i, mode) in self.captures]
        return np.concatenate(rows) if rows else None


def read_training(run: NotebookRun) -> TrainingTrace:
    """The watch's history, validated: malformed entries are ignored, never trusted."""
    hooked, steps, after, captures = None, None, {}, {}
    for kept in run.kept(P4_WATCH):
        if kept.key == "hooked" and hooked is None:
            hooked, steps = kept.cell_index, {}
        elif kept.key == "steps" and isinstance(kept.value, dict):
            counts = _counts(kept.value)
            after[kept.cell_index] = counts
            steps = counts
        elif match := _CAPTURE.match(kept.key):
            try:
                rows = expect_array({"rows": kept.value}, "rows", shape=(None, 784))
            except InterfaceError:
                continue
            key = (int(match.group(2)), match.group(1))
            captures[key] = np.concatenate([captures[key], rows]) if key in captures else rows
    return TrainingTrace(hooked, steps, after, captures)


def _counts(raw: dict) -> dict[int, int]:
    counts = {}
    for key, value in raw.items():
        if isinstance(key, str) and key.isdigit() and isinstance(value, int) and value >= 0:
            counts[int(key)] = value
    return counts


@dataclass(frozen=True)
class TrainingNote:
    """Why the graded model is less trained than the notebook meant."""

    kind: str  # "interrupted", "failed", "never-trained"
    message: str
    # A time limit, not the student's code, kept the training from running at all: the
    # part cannot be judged (status timeout), unlike a run cut short, judged as partial.
    out_of_time: bool = False


def training_note(
    run: NotebookRun,
    trace: TrainingTrace,
    weight_ids: tuple[int, ...],
    epochs_done: int | None,
    batches_per_epoch: int | None,
    near_chance: bool,
) -> TrainingNote | None:
    """Interrupted or failed training of the graded model, said plainly; None when it ran.

    "Never trained" is said only of a model at chance level whose notebook has
    a failed cell: a model trained without torch.optim has no steps to count.
    """
    cells = {c.index: c for c in run.cells}
    stopped = [
        (cells[index], steps)
        for index, steps in trace.steps_in_cells(weight_ids).items()
        if index in cells and cells[index].status != "ok"
    ]
    if not stopped and trace.steps_of(weight_ids) is None:
        # The watch did not see this training: a timed-out cell is still the likely one.
        stopped = [(c, 0) for c in run.cells if c.status == "timeout"][:1]
    for cell, steps in stopped:
        epoch = _epoch(steps, epochs_done, batches_per_epoch)
        if cell.status == "timeout":
            return TrainingNote(
                "interrupted",
                f"training cell interrupted after {cell.duration_s:.0f} s{epoch} "
                f"({describe_cell(cell)} reached the time limit); "
                "accuracy is graded on the partly trained model",
            )
        return TrainingNote(
            "failed",
            f"training stopped early{epoch}: {failure(run, cell)}; "
            "accuracy is graded on the partly trained model",
        )
    if trace.steps_of(weight_ids) or not near_chance:
        return None
    failed = _failed_training_cell(run)
    if failed is None:
        return None
    how = " (no optimizer step ran)" if trace.steps_of(weight_ids) == 0 else ""
    return TrainingNote(
        "never-trained",
        f"the model was not trained{how}: {failure(run, failed)}",
        out_of_time=failed.status in ("timeout", "skipped"),
    )


def failure(run: NotebookRun, cell: CellResult) -> str:
    """What went wrong in `cell`, with the cause when it needed a name that an earlier cell
    failed to define (the data loader of a data file the grader does not have)."""
    problem = cell_problem(cell, run.cells) or ""
    found = _UNDEFINED.search(cell.error_value or "") if cell.error_name == "NameError" else None
    if found is None:
        return problem
    clause = why_undefined(run, found.group(1))
    if clause.startswith("no cell"):
        return problem  # a typo: the name is defined nowhere, the message says all there is
    return f"{problem} (`{found.group(1)}` is not defined because {clause})"


def _epoch(steps: int, epochs_done: int | None, batches: int | None) -> str:
    if batches and steps:
        done = steps // batches
        return f" at epoch {done + 1} ({done} full epoch(s) done)"
    if epochs_done is not None:
        return f" at epoch {epochs_done + 1} ({epochs_done} epoch(s) recorded)"
    return ""


def _failed_training_cell(run: NotebookRun) -> CellResult | None:
    """The first failed cell that trains (or the first failed cell at all)."""
    try:
        cells = load_notebook(run.source.path).cells
    except (MalformedSource, OSError):
        cells = []
    bad = [c for c in run.cells if c.status != "ok"]
    for result in bad:
        source = cells[result.index].source if result.index < len(cells) else ""
        if TRAINING_CODE.search(source):
            return result
    return bad[0] if bad else None
