"""The value history (watches after every cell), per-problem probe timing and time limits,
on real sandboxed kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from notebook_files import write_notebook

from dlgrade.engine import Probe, SandboxConfig, Watch, run_notebook
from dlgrade.engine.records import SourceFile

CONFIG = SandboxConfig(cell_timeout_s=60, notebook_timeout_s=120, interrupt_grace_s=5)
pytestmark = pytest.mark.slow

# Keeps every global list of numbers whose content changed since it was last kept.
CHANGED_LISTS = """
def _dlgrade_watch():
    import numpy as np
    for name, value in list(globals().items()):
        if name.startswith("_") or not isinstance(value, list):
            continue
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            continue
        fingerprint = (array.shape, array.tobytes())
        if _dlgrade_memory.get(name) != fingerprint:
            _dlgrade_memory[name] = fingerprint
            _dlgrade_keep(name, array)
_dlgrade_watch()
"""

# Wraps the student's `step` once: every call keeps the global `w` it left behind.
HOOK_STEP = """
def _dlgrade_watch():
    import functools
    import numpy as np
    step = globals().get("step")
    if callable(step) and not getattr(step, "_dlgrade_hooked", False):
        keep = _dlgrade_keep
        @functools.wraps(step)
        def hooked(*args, **kwargs):
            result = step(*args, **kwargs)
            keep("after_step", np.asarray(globals()["w"], dtype=float))
            return result
        hooked._dlgrade_hooked = True
        globals()["step"] = hooked
_dlgrade_watch()
"""


def notebook(folder: Path, name: str, *cells: str, problems: tuple[str, ...] = ()) -> SourceFile:
    return SourceFile(write_notebook(folder / name, *cells), "ipynb", "ok", problem_ids=problems)


def kept(run, watch: str) -> list[tuple[int, str, list[float]]]:
    return [(k.cell_index, k.key, np.asarray(k.value).tolist()) for k in run.kept(watch)]


def test_a_reused_name_keeps_every_value_it_held_with_its_cell(tmp_path):
    source = notebook(
        tmp_path / "s",
        "nb.ipynb",
        "solution = [1.0, 2.0]",
        "print('unrelated')",
        "solution = [3.0, 4.0]\nother = [5.0]",
        "solution = [3.0, 4.0]  # same value again: nothing new to keep",
    )
    run = run_notebook(source, [Probe("end", "_dlgrade_emit('s', solution)")], CONFIG)
    assert kept(run, "lists") == [] and run.history == {}  # no watch asked for
    run = run_notebook(source, [], CONFIG, watches=[Watch("lists", CHANGED_LISTS)])
    assert kept(run, "lists") == [
        (0, "solution", [1.0, 2.0]),
        (2, "other", [5.0]),
        (2, "solution", [3.0, 4.0]),
    ] or kept(run, "lists") == [
        (0, "solution", [1.0, 2.0]),
        (2, "solution", [3.0, 4.0]),
        (2, "other", [5.0]),
    ]


def test_a_hook_keeps_each_call_and_ignores_the_graders_own_calls(tmp_path):
    source = notebook(
        tmp_path / "s",
        "nb.ipynb",
        "w = [0.0]\ndef step():\n    w[0] += 1.0",
        "for epoch in range(3):\n    step()",
        "print(step.__name__)",
    )
    probe = Probe("again", "step(); _dlgrade_emit('w', w)")
    run = run_notebook(source, [probe], CONFIG, watches=[Watch("steps", HOOK_STEP)])
    assert run.status == "ok", run.cells
    assert kept(run, "steps") == [
        (1, "after_step", [1.0]),
        (1, "after_step", [2.0]),
        (1, "after_step", [3.0]),
    ]
    assert "step" in run.cells[2].text  # functools.wraps: the student sees their own function
    # The probe's call ran through the hook but was not kept.
    assert run.probes["again"].values["w"] == [4.0]


def test_a_watch_over_budget_stops_keeping_and_a_failing_watch_is_reported(tmp_path):
    source = notebook(tmp_path / "s", "nb.ipynb", "a = [1.0] * 100", "a = [2.0] * 100", "b = 1")
    watches = [
        Watch("small", CHANGED_LISTS, budget_bytes=1000),
        Watch("broken", "raise RuntimeError('grader bug')"),
    ]
    run = run_notebook(source, [], CONFIG, watches=watches)
    assert kept(run, "small") == [(0, "a", [1.0] * 100)]
    notes = {o.kind: o.message for o in run.observations}
    assert "small" in notes["history-capped"]
    assert "grader bug" in notes["watch-error"] and "please report" in notes["watch-error"]
    assert run.status == "ok"  # the grader's failure is not the student's


def test_earlier_problems_keep_their_probes_when_a_later_one_hangs(tmp_path):
    source = notebook(
        tmp_path / "s",
        "combined.ipynb",
        "from scipy.optimize import fsolve\nfit = [1.0] * 13",
        # a P4 cell by its cues (nn.Linear, DataLoader), without the cost of importing torch
        "sizes = [784, 10]  # nn.Linear(784, 10) over a DataLoader",
        "def train_one_epoch():\n    while True:\n        pass\ntrain_one_epoch()",
        problems=("p3", "p4", "p5"),
    )
    probes = [
        Probe("p3", "_dlgrade_emit('fit', fit)", problem="p3"),
        Probe("p4", "_dlgrade_emit('n', sizes[1])", problem="p4"),
        Probe("p5", "_dlgrade_emit('alive', True)", problem="p5"),
    ]
    config = SandboxConfig(cell_timeout_s=5, notebook_timeout_s=60, interrupt_grace_s=1)
    run = run_notebook(source, probes, config)
    assert run.probes["p3"].values["fit"] == [1.0] * 13
    assert run.probes["p4"].values["n"] == 10
    # The hung cell was interrupted and the kernel recovered: the last problem is probed too.
    assert run.cells[2].status == "timeout" and run.cells[2].duration_s >= 4
    assert run.probes["p5"].values["alive"] is True


def test_notebook_time_limit_still_runs_the_probes_on_what_finished(tmp_path):
    source = notebook(
        tmp_path / "s",
        "nb.ipynb",
        "done = 'first cell'",
        "import time\nfor epoch in range(1000):\n    time.sleep(0.1)",
        "never = True",
    )
    config = SandboxConfig(cell_timeout_s=60, notebook_timeout_s=4, interrupt_grace_s=5)
    run = run_notebook(source, [Probe("end", "_dlgrade_emit('done', done)")], config)
    assert [c.status for c in run.cells] == ["ok", "timeout", "skipped"]
    assert run.status == "timeout"
    assert run.probes["end"].values["done"] == "first cell"
    assert any("notebook time limit" in o.message for o in run.observations)


def test_cells_carry_their_first_line_and_duration(tmp_path):
    source = notebook(
        tmp_path / "s", "nb.ipynb", "\n\n# set-up\nx = 1", "import time; time.sleep(1)"
    )
    run = run_notebook(source, [], CONFIG)
    assert run.cells[0].first_line == "# set-up"
    assert run.cells[1].duration_s >= 1.0
