"""Notebook runs read from the student's live kernel instead of a sandboxed one.

`LiveRuns` is what the checks' `notebooks` fixture hands out during an
in-notebook check (see checks.notebook_runs.RUNS_OVERRIDE): the same `get`,
`choice` and `runs` as the sandbox's `NotebookRuns`, with `ProblemRun`s whose
`NotebookRun` holds

* probes run on demand, by the very kernel-side code the sandbox uses
  (`_dlgrade_shim.probe`), in the kernel's namespace, their values read back
  and validated by `dlgrade.engine.values` as in the sandbox;
* a value history of one step: every watch run once on the current state;
* no figures and no cell records: a live kernel keeps neither. A check that
  looks at figures is skipped with a pointer to `dlgrade check`.

Probes call the student's functions from the grader's fixed state. Whatever
they rebind, add or shuffle is put back afterwards (names, list/dict/set
contents, random generators, torch modules' train/eval mode), so checking does
not change what the student's next cell computes. Objects the student's code
mutates in place in other ways (an array's contents, say) cannot be restored.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from checks.notebook_runs import ProblemRun
from checks.sources import Choice
from dlgrade.engine.history import read_history
from dlgrade.engine.probes import write_inputs
from dlgrade.engine.records import NotebookRun, Probe, ProbeResult, SourceFile, Watch
from dlgrade.engine.values import read_probe_result
from dlgrade.student.recorder import Recorder
from dlgrade.student.shell import shim_modules

ISOLATION = "none: your own kernel (checked in place, no sandbox)"
FIGURES_SKIP = (
    "can only be checked by `dlgrade check`: this part looks at the figures your notebook "
    "draws, and a live kernel does not keep them"
)
MAX_VALUE_BYTES = 256 << 20
_MISSING = object()


class FiguresNotKept(tuple):
    """Stands in for a run's recorded figures: any look at them skips the check."""

    def _refuse(self, *args: object) -> Any:
        pytest.skip(FIGURES_SKIP)

    __iter__ = __len__ = __getitem__ = __bool__ = __contains__ = _refuse  # type: ignore[assignment]


class LiveProbes(Mapping):
    """Probe name -> ProbeResult, each probe run in the kernel the first time it is read
    (unless `recorded` already holds its result, taken when its cell ran)."""

    def __init__(
        self,
        probes: list[Probe],
        run: Callable[[Probe], ProbeResult],
        recorded: Mapping[str, ProbeResult] | None = None,
    ) -> None:
        self._probes = {p.name: p for p in probes}
        self._run = run
        self._results: dict[str, ProbeResult] = dict(recorded or {})

    def __getitem__(self, name: str) -> ProbeResult:
        if name not in self._results:
            self._results[name] = self._run(self._probes[name])  # KeyError for unknown names
        return self._results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._probes)

    def __len__(self) -> int:
        return len(self._probes)


class LiveRuns:
    """The checks' notebook runs, taken from `namespace` (the kernel's globals).

    With a `Recorder` (IPython, from the import of dlgrade.student on), the
    history and the `after` probes come from the cells as they ran; the watches
    also run once more on the current state. Without one, both are taken now.
    """

    def __init__(
        self,
        namespace: dict,
        notebook: Path,
        probes: Mapping[str, Callable[[], list[Probe]]],
        watches: Mapping[str, Callable[[], list[Watch]]],
        cell_index: int = 0,
        recorder: Recorder | None = None,
    ) -> None:
        self.namespace = namespace
        self.notebook = notebook
        self.probes = probes
        self.watches = watches
        self.cell_index = cell_index
        self.recorder = recorder
        self.notes: list[str] = []  # for the student: when values were read
        self._runs: dict[str, NotebookRun] = {}

    def source(self, problem: str) -> SourceFile:
        return SourceFile(self.notebook, "ipynb", "ok", problem_ids=(problem,))

    def choice(self, problem: str) -> Choice:
        return Choice(self.source(problem), "")

    def get(self, problem: str) -> ProblemRun:
        if problem not in self._runs:
            self._runs[problem] = self._run(problem)
        return ProblemRun(problem, self._runs[problem])

    @property
    def runs(self) -> list[NotebookRun]:
        return list(self._runs.values())

    def failed_cells(self) -> list:
        """A live kernel's cells are the student's own business: nothing to report."""
        return []

    def _run(self, problem: str) -> NotebookRun:
        started = time.monotonic()
        probes = self.probes[problem]() if problem in self.probes else []
        watches = self.watches[problem]() if problem in self.watches else []
        if self.recorder is not None:
            history, recorded = self._recorded(problem, watches)
        else:
            history, recorded = self._history_now(watches), {}
        for name, entry in recorded.items():
            names = ", ".join(next(p.after for p in probes if p.name == name))
            self.notes.append(
                f"{names} were read right after cell [{entry.cell_index + 1}], which last bound them"
            )
        results = {name: entry.result for name, entry in recorded.items()}
        if self.recorder is not None and self.recorder.error:
            self.notes.append(
                f"recording values as cells ran failed ({self.recorder.error}); "
                "what was missed is read now instead"
            )
        return NotebookRun(
            source=self.source(problem),
            status="ok",
            cells=(),
            probes=LiveProbes(probes, self._probe, results),  # type: ignore[arg-type]
            observations=(),
            figures=FiguresNotKept(),
            isolation=ISOLATION,
            duration_s=time.monotonic() - started,
            history=history,
        )

    def _probe(self, probe: Probe) -> ProbeResult:
        return run_probe(self.namespace, probe)

    def _recorded(self, problem: str, watches: list[Watch]) -> tuple[Mapping, dict]:
        """History and `after` results from the recorder, brought up to this cell."""
        recorder = self.recorder
        assert recorder is not None
        recorder.start(problem)
        recorder.after_cell(self.cell_index)  # the watches once more, on the current state
        history = recorder.history([w.name for w in watches], MAX_VALUE_BYTES)
        after = [p for p in (self.probes[problem]() if problem in self.probes else []) if p.after]
        recorded = {p.name: recorder.recorded[p.name] for p in after if p.name in recorder.recorded}
        return history, recorded

    def _history_now(self, watches: list[Watch]) -> Mapping:
        """Every watch run once on the current state: a history of one step (this cell)."""
        if not watches:
            return {}
        _, shim_history, _ = shim_modules()
        keeping = shim_history._History()  # a fresh one per check: nothing counts as seen
        states = [shim_history._Watch(w.name, w.code, w.budget_bytes) for w in watches]
        keeping.watches.extend(states)
        with tempfile.TemporaryDirectory(prefix="dlgrade-live-") as tmp:
            run_watches(self.namespace, keeping, states, self.cell_index, Path(tmp))
            return read_history(Path(tmp), [w.name for w in watches], MAX_VALUE_BYTES).frozen()


def run_probe(namespace: dict, probe: Probe) -> ProbeResult:
    """`probe` run in `namespace` by the sandbox's own kernel-side code, state put back after."""
    shim_probe, _, _ = shim_modules()
    with tempfile.TemporaryDirectory(prefix="dlgrade-live-") as tmp:
        inputs = write_inputs(probe, Path(tmp) / "inputs.npz")
        result_dir = Path(tmp) / "result"
        with preserved(namespace):
            shim_probe.run(
                namespace, probe.name, probe.code, str(inputs) if inputs else None, str(result_dir)
            )
        result = read_probe_result(probe.name, result_dir, MAX_VALUE_BYTES)
    if result.error and result.error.startswith("KeyboardInterrupt"):
        raise KeyboardInterrupt  # the student stopped the check: stop all of it
    return result


def run_watches(namespace: dict, keeping: Any, states: list, cell_index: int, folder: Path) -> None:
    """Each watch once in `namespace` (the shim's code), then what they kept written to `folder`."""
    _, _, shim_values = shim_modules()
    with preserved(namespace):
        for state in states:
            injected = {"_dlgrade_keep": keeping.keeper(state), "_dlgrade_memory": state.memory}
            error = shim_values.exec_in(namespace, state.code, f"<watch {state.name}>", injected)
            if error and state.error is None:
                state.error = error[:2000]
    keeping.flush(str(folder), cell_index)


def new_recorder(namespace: dict) -> Recorder:
    """A recorder for `namespace` running the checks' own probes and watches."""
    from checks.probes import PROBES_BY_PROBLEM, WATCHES_BY_PROBLEM

    return Recorder(
        namespace,
        PROBES_BY_PROBLEM,
        WATCHES_BY_PROBLEM,
        lambda probe: run_probe(namespace, probe),
        lambda keeping, states, cell, folder: run_watches(namespace, keeping, states, cell, folder),
    )


@contextmanager
def preserved(namespace: dict) -> Iterator[None]:
    """Put the namespace back as it was: bindings, container contents, random states, modes."""
    bindings = dict(namespace)
    contents = {
        name: (value.copy() if not isinstance(value, list) else list(value))
        for name, value in bindings.items()
        if type(value) in (list, dict, set) and not name.startswith("_")
    }
    generators = _generator_states(bindings)
    modes = _module_modes(bindings)
    try:
        yield
    finally:
        for name in set(namespace) - set(bindings):
            del namespace[name]
        for name, value in bindings.items():
            if namespace.get(name, _MISSING) is not value:
                namespace[name] = value
        for name, saved in contents.items():
            _refill(bindings[name], saved)
        _restore_generators(generators)
        for module, flags in modes:
            for sub, flag in zip(module.modules(), flags, strict=False):
                sub.training = flag


def _refill(container: Any, saved: Any) -> None:
    if container == saved:
        return
    if isinstance(container, list):
        container[:] = saved
    else:
        container.clear()
        container.update(saved)


def _generator_states(bindings: dict) -> list[tuple[Any, Any]]:
    """(object, state) for the global RNGs and every generator the student holds."""
    states: list[tuple[Any, Any]] = [
        (random, random.getstate()),
        (np.random, np.random.get_state()),
    ]
    torch = sys.modules.get("torch")
    if torch is not None:
        states.append((torch, torch.get_rng_state()))
    for value in bindings.values():
        if isinstance(value, np.random.Generator):
            states.append((value, value.bit_generator.state))
        elif isinstance(value, random.Random | np.random.RandomState):
            states.append(
                (value, value.getstate() if isinstance(value, random.Random) else value.get_state())
            )
        elif torch is not None and isinstance(value, torch.Generator):
            states.append((value, value.get_state()))
    return states


def _restore_generators(states: list[tuple[Any, Any]]) -> None:
    torch = sys.modules.get("torch")
    for owner, state in states:
        if owner is random or isinstance(owner, random.Random):
            owner.setstate(state)
        elif owner is np.random or isinstance(owner, np.random.RandomState):
            owner.set_state(state)
        elif isinstance(owner, np.random.Generator):
            owner.bit_generator.state = state
        elif owner is torch:
            torch.set_rng_state(state)
        elif torch is not None and isinstance(owner, torch.Generator):
            owner.set_state(state)


def _module_modes(bindings: dict) -> list[tuple[Any, list[bool]]]:
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    return [
        (value, [m.training for m in value.modules()])
        for value in bindings.values()
        if isinstance(value, torch.nn.Module)
    ]
