"""Where the graded network's weights came from: the notebook's training, or a file.

An accuracy check measures weights; it cannot tell trained weights from
weights a notebook read from a file. The in-kernel shim records every loader
call a cell makes (`np.load` and npz members, `pickle.load(s)`, `torch.load`,
`load_state_dict`) with the shapes it returned, and the `loads` watch keeps
them per cell (checks/kernel/loads_watch.py). A load whose arrays have the
shapes of the graded network's weights, in a cell before the graded weights
were taken, means they came from a file; a P5 notebook that trained another
number of epochs than the assignment asks is named too.

Either is flagged for a TA (a serious observation) and said in the part's
details; the points follow the manifest's `loaded_weights_credit` (default 1:
flag and keep the points). The kernel's record is the student's side: it
names a notebook that loads weights, it does not prove one does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from checks.probes import LOADS_WATCH
from checks.scoring import CheckFailed, PartialCredit
from dlgrade.engine import NotebookRun
from dlgrade.engine.cells import describe_cell
from dlgrade.records import ObservationKind

CREDIT_SETTING = "loaded_weights_credit"
ASKED_EPOCHS = 3  # ASSIGNMENT.md, problem 5 Q4: "the notebook trains 3 epochs"
_LOADERS = {"numpy.load", "pickle.load", "pickle.loads", "torch.load", "load_state_dict"}
_SAVERS = {"numpy.save", "numpy.savez", "numpy.savez_compressed", "torch.save", "pickle.dump"}
_SUFFIXES = (".npy", ".npz")  # numpy adds them when the name has none


@dataclass(frozen=True)
class Load:
    """One loader call of the notebook's, as the kernel reported it (validated)."""

    cell: int  # 0-based index of the cell that ran it
    loader: str
    file: str
    shapes: tuple[tuple[int, ...], ...]

    @property
    def saves(self) -> bool:
        return self.loader in _SAVERS

    @property
    def archive(self) -> str:
        """The file without an npz member or numpy's suffix: 'w.npz[w0]' and 'w' -> 'w'."""
        name = self.file.partition("[")[0]
        return name.removesuffix(_SUFFIXES[0]).removesuffix(_SUFFIXES[1])


@dataclass(frozen=True)
class Concern:
    """Why the graded weights may not be the notebook's own training, for the part and the TA."""

    kind: ObservationKind
    message: str


PROBE_CELL = -1  # a load made while a grader probe ran the student's function


def read_loads(run: NotebookRun) -> list[Load]:
    """The loads watch's entries; malformed ones (the kernel is untrusted) are dropped."""
    found = (_load(kept.cell_index, kept.value) for kept in run.kept(LOADS_WATCH))
    return [load for load in found if load is not None]


def probed_loads(values: dict, keys: Iterable[str]) -> list[Load]:
    """Loads a probe reported under `keys` (each a list of entries), made while it ran."""
    entries = [e for key in keys if isinstance(values.get(key), list) for e in values[key]]
    found = (_load(PROBE_CELL, entry) for entry in entries)
    return [load for load in found if load is not None]


def _load(cell: int, value: object) -> Load | None:
    if not isinstance(value, dict) or value.get("loader") not in _LOADERS | _SAVERS:
        return None
    shapes = value.get("shapes")
    if not isinstance(shapes, list) or not all(_is_shape(s) for s in shapes):
        return None
    name = value.get("file") if isinstance(value.get("file"), str) else ""
    return Load(cell, value["loader"], name[:200], tuple(map(tuple, shapes)))


def _is_shape(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(n, int) and n >= 0 for n in value)


def weight_loads(
    loads: Iterable[Load], weight_shapes: Iterable[tuple[int, ...]], last_cell: int | None
) -> list[Load]:
    """Loads that returned an array shaped like one of the network's weight matrices (either
    orientation), made no later than `last_cell` (None: any cell), from a file the notebook
    did not save itself earlier (`loads` in the order they were made).

    `load_state_dict` counts only beside such a load in the same cell: on its own it
    may restore a copy the notebook kept in memory (the best epoch's weights).
    """
    wanted = {tuple(s) for s in weight_shapes} | {tuple(reversed(s)) for s in weight_shapes}
    saved: set[str] = set()
    found = []
    for load in loads:
        if load.saves:
            saved.add(load.archive)
        elif load.archive and load.archive in saved:
            continue
        elif (last_cell is None or load.cell <= last_cell) and wanted & set(load.shapes):
            found.append(load)
    from_files = {load.cell for load in found if load.loader != "load_state_dict"}
    return [load for load in found if load.loader != "load_state_dict" or load.cell in from_files]


def loaded_concern(run: NotebookRun, loads: list[Load], what: str) -> Concern | None:
    """The concern for `loads` (from `weight_loads`), naming each call and its cell."""
    if not loads:
        return None
    cells = {c.index: c for c in run.cells}
    # A loop loading the same file each epoch is one finding, not three.
    calls = list(
        dict.fromkeys(
            f"{_call(load)} {_where(load.cell, cells)} returned {_shapes_text(load.shapes)}"
            for load in loads
        )
    )
    more = f" and {len(calls) - 4} more" if len(calls) > 4 else ""
    calls = calls[:4]
    return Concern(
        ObservationKind.WEIGHTS_LOADED,
        f"{what} came from a file, not only from the notebook's own training: "
        f"{'; '.join(calls)}{more}",
    )


def epochs_concern(trained: int) -> Concern | None:
    if trained == ASKED_EPOCHS:
        return None
    return Concern(
        ObservationKind.EPOCHS_DIFFER,
        f"the notebook trained {trained} epoch{'s' * (trained != 1)}; the assignment asks for "
        f"{ASKED_EPOCHS}",
    )


def _where(cell: int, cells: dict) -> str:
    if cell == PROBE_CELL:
        return "(called by your function when the grader ran it)"
    return f"in {describe_cell(cells[cell])}" if cell in cells else f"in cell {cell + 1}"


def _call(load: Load) -> str:
    return f"{load.loader}({load.file!r})" if load.file else f"{load.loader}(...)"


def _shapes_text(shapes: tuple[tuple[int, ...], ...]) -> str:
    text = ", ".join("x".join(map(str, s)) or "a scalar" for s in shapes[:6])
    return text + (", ..." if len(shapes) > 6 else "")


def report(
    concerns: Iterable[Concern | None],
    source: str,
    observe: Callable[[str, str, str], None],
    record,
) -> str:
    """Flag each concern for a TA and put it in the part's details; the joined message."""
    found = [c for c in concerns if c is not None]
    for concern in found:
        observe(source, str(concern.kind), concern.message)
    message = "; ".join(c.message for c in found)
    if message:
        record.add("weights_source", message)
    return message


def apply_credit(message: str, credit: float, fraction: float = 1.0) -> float:
    """The fraction earned once the manifest's `loaded_weights_credit` is applied.

    Raises when the concern takes points away: `PartialCredit` (or
    `CheckFailed` at 0), naming the concern. With the default credit of 1 the
    part keeps its points and is only flagged.
    """
    if not message or credit >= 1:
        return fraction
    earned = fraction * credit
    text = f"{message}; the course gives {credit:.0%} of the points for such weights"
    if earned <= 0:
        raise CheckFailed(text)
    raise PartialCredit(earned, text)
