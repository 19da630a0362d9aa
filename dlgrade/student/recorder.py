"""The live kernel's value history, recorded as the student runs cells.

The sandbox runs each problem's watches after every cell and reads some
values right after the cell that defines them (a probe's `after` names: P5's
initial weights, before training changes them). A live kernel can do the
same from the moment `dlgrade.student` is imported: `attach` registers a
`post_run_cell` callback on IPython that runs every problem's watches
(keeping new or changed values, per cell) and each `after` probe when its
names are (re)bound. Which problem the notebook holds is not known yet (the
code that tells comes later, e.g. P5's `train_one_sample` after the
initialisation), so all of them are recorded; watches and `after` probes are
cheap. Checks then read this history instead of only the current state.

Nothing here may break the student's notebook: a failure is remembered and
shown with the next check, never raised into their cell.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlgrade.data import DataError
from dlgrade.engine.history import read_history
from dlgrade.engine.records import Probe, ProbeResult, Watch
from dlgrade.student.shell import ipython, shim_modules

ATTRIBUTE = "_dlgrade_recorder"  # on the IPython shell: one recorder per kernel


@dataclass(frozen=True)
class Recorded:
    """An `after` probe's result, taken right after the cell that bound its names."""

    result: ProbeResult
    cell_index: int


class Recorder:
    """Runs watches and `after` probes after each cell of the problems seen so far."""

    def __init__(
        self,
        namespace: dict,
        probes: Mapping[str, Callable[[], list[Probe]]],
        watches: Mapping[str, Callable[[], list[Watch]]],
        run_probe: Callable[[Probe], ProbeResult],
        run_watches: Callable[[Any, list, int, Path], None],  # (keeper, states, cell, folder)
    ) -> None:
        self.namespace = namespace
        self.probes = probes
        self.watches = watches
        self.run_probe = run_probe
        self.run_watches = run_watches
        self.problems: dict[
            str, tuple[list[Probe], list]
        ] = {}  # engine id -> (after probes, watch states)
        self.pending: set[str] = set()  # problems whose `after` probes await their dataset
        self.recorded: dict[str, Recorded] = {}
        self.bound: dict[str, tuple[int, ...]] = {}  # probe -> ids of its names' values when run
        self.folder = tempfile.TemporaryDirectory(prefix="dlgrade-history-")
        self.keeping: Any = None  # the shim's keeper (created with the first watch)
        self.error = ""

    def post_run_cell(self, result: Any) -> None:
        """IPython's callback: never lets an exception reach the student's cell."""
        try:
            count = int(getattr(result, "execution_count", None) or 1)
            self.after_cell(count - 1)
        except Exception as err:  # noqa: BLE001 - any failure is reported with the next check
            self.error = self.error or f"{type(err).__name__}: {err}"

    def after_cell(self, cell_index: int) -> None:
        for problem in sorted({*self.probes, *self.watches}):
            self.start(problem)
        states = [state for _, watch_states in self.problems.values() for state in watch_states]
        if states:
            self.run_watches(self.keeping, states, cell_index, Path(self.folder.name))
        for after, _ in self.problems.values():
            for probe in after:
                self._maybe_probe(probe, cell_index)

    def start(self, problem: str) -> None:
        """Record `problem` from now on.

        Watches need no dataset, so they start at once: on a fresh home folder the
        first check fetches the data, and a history begun only then would judge the
        check cell's state as the notebook's initial one. `after` probes whose inputs
        cannot be built yet (dataset not fetched) are retried after the next cell.
        """
        if problem not in self.problems:
            watches = self.watches[problem]() if problem in self.watches else []
            self.problems[problem] = ([], self._watch_states(watches))
            self.pending.add(problem)
        if problem not in self.pending:
            return
        try:
            probes = self.probes[problem]() if problem in self.probes else []
        except DataError:
            return
        self.pending.discard(problem)
        self.problems[problem][0].extend(p for p in probes if p.after)

    def _watch_states(self, watches: list[Watch]) -> list:
        _, shim_history, _ = shim_modules()
        if self.keeping is None:
            self.keeping = shim_history._History()
        states = [shim_history._Watch(w.name, w.code, w.budget_bytes) for w in watches]
        self.keeping.watches.extend(states)
        return states

    def _maybe_probe(self, probe: Probe, cell_index: int) -> None:
        """Run `probe` when all its names are bound, and again whenever one is rebound."""
        if not all(name in self.namespace for name in probe.after):
            return
        ids = tuple(id(self.namespace[name]) for name in probe.after)
        if self.bound.get(probe.name) == ids:
            return
        self.bound[probe.name] = ids
        self.recorded[probe.name] = Recorded(self.run_probe(probe), cell_index)

    def history(self, names: list[str], max_bytes: int) -> Mapping:
        """What the watches kept so far, read back and validated like the sandbox's."""
        return read_history(Path(self.folder.name), names, max_bytes).frozen()


def attach(make: Callable[[dict], Recorder]) -> Recorder | None:
    """The kernel's recorder, registered on first use; None outside IPython."""
    shell = ipython()
    if shell is None:
        return None
    recorder = getattr(shell, ATTRIBUTE, None)
    if recorder is None:
        recorder = make(shell.user_ns)
        setattr(shell, ATTRIBUTE, recorder)
        shell.events.register("post_run_cell", recorder.post_run_cell)
    return recorder
