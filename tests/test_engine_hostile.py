"""Hostile notebooks: each run finishes, says what happened, and harms nothing outside.

Every notebook runs for real in a kernel under the engine's sandbox: bwrap (the
default mode), and for the tests that say so the unprivileged-user mode (as root)
or no isolation (to show what that mode leaves open).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from nested_notebook import deeply_nested_notebook
from user_mode import user_mode_problem

from dlgrade.engine import Probe, SandboxConfig, discover, run_notebook
from dlgrade.engine.records import NotebookRun, SourceFile
from dlgrade.engine.sandbox import bwrap_usable
from dlgrade.records import ENGINE_KINDS, ObservationKind

HOSTILE = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[1]
HAVE_BWRAP = bwrap_usable()
needs_bwrap = pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap cannot create namespaces here")
USER_MODE_PROBLEM = user_mode_problem()
needs_user_mode = pytest.mark.skipif(
    USER_MODE_PROBLEM is not None, reason=f"user mode cannot run here: {USER_MODE_PROBLEM}"
)
# Small limits keep the suite fast; the engine's defaults are far larger.
FAST = SandboxConfig(
    cell_timeout_s=4,
    notebook_timeout_s=60,
    memory_mb=2048,
    max_processes=64,
    max_output_bytes=100_000,
    max_file_bytes=1 << 20,
    interrupt_grace_s=3,
    train_limit=100,
    test_limit=50,
)
pytestmark = pytest.mark.slow


def place(tmp_path: Path, name: str, student: str = "student", **fills: str) -> SourceFile:
    """Copy hostile notebook `name` into its own student folder, filling placeholders."""
    text = (HOSTILE / name).read_text()
    for key, value in fills.items():
        text = text.replace(f"__{key}__", value)
    folder = tmp_path / student
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return SourceFile(path, "py", "ok")


def run(source: SourceFile, probes=(), **changes) -> NotebookRun:
    config = SandboxConfig(**{**FAST.__dict__, **changes})
    return run_notebook(source, list(probes), config)


def kinds(result: NotebookRun) -> set[str]:
    found = {o.kind for o in result.observations}
    assert found <= ENGINE_KINDS, found - ENGINE_KINDS  # the engine speaks the vocabulary
    return found


def message(result: NotebookRun, kind: ObservationKind) -> str:
    return next(o.message for o in result.observations if o.kind == kind)


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_sys_exit_is_an_error_and_the_kernel_goes_on(tmp_path):
    result = run(place(tmp_path, "sys_exit.py"), [Probe("after", "_dlgrade_emit('s', survived)")])
    assert result.cells[0].status == "error"
    assert result.cells[0].error_name == "SystemExit"
    assert result.cells[1].status == "ok"
    assert result.probes["after"].values["s"] == 1


def test_os_exit_kills_the_kernel_and_is_reported(tmp_path):
    result = run(place(tmp_path, "os_exit.py"), [Probe("end", "_dlgrade_emit('n', never)")])
    assert result.status == "died"
    assert [c.status for c in result.cells] == ["error", "skipped"]
    assert ObservationKind.KERNEL_DIED in kinds(result)
    assert message(result, ObservationKind.KERNEL_DIED).startswith("the kernel died during cell 1")
    assert result.probes["end"].error == "not run: kernel died"
    assert result.probes["end"].stopped_by == ObservationKind.KERNEL_DIED


def test_object_with_lying_eq_is_refused(tmp_path):
    result = run(place(tmp_path, "eq_object.py"), [Probe("p", "_dlgrade_emit('answer', answer)")])
    probe = result.probes["p"]
    assert probe.values == {}
    assert "neither a numpy array nor JSON" in probe.error


def test_grades_directory_outside_is_untouched(tmp_path):
    grades = tmp_path / "grades"
    grades.mkdir()
    (grades / "grades.json").write_text('{"student": 12}')
    before = tree_digest(grades)
    result = run(place(tmp_path, "write_grades.py", GRADES=str(grades)))
    assert result.status in ("ok", "errors")
    assert tree_digest(grades) == before


@needs_bwrap
def test_repository_reference_and_checks_are_invisible(tmp_path):
    result = run(place(tmp_path, "read_reference.py", REPO=str(REPO)), isolation="bwrap")
    text = result.cells[0].text
    assert "imported" not in text and "FileNotFoundError" in text
    assert result.cells[1].error_name == "FileNotFoundError"


@needs_bwrap
def test_outside_network_is_unreachable(tmp_path):
    result = run(place(tmp_path, "network.py"), isolation="bwrap")
    assert result.cells[-1].status == "error"  # a script runs statement by statement
    assert "unreachable" in result.cells[-1].error_value.lower()
    assert "network-blocked" in kinds(result)


def test_network_blocked_without_isolation_by_the_in_process_guard(tmp_path):
    result = run(place(tmp_path, "network.py"), isolation="none")
    assert "unreachable" in result.cells[-1].error_value.lower()
    assert {"network-blocked", "isolation-reduced"} <= kinds(result)


@pytest.mark.skipif(
    os.geteuid() != 0, reason="the per-run uid needs root; as a user the cap is per user"
)
@pytest.mark.parametrize(
    "mode",
    [pytest.param("bwrap", marks=needs_bwrap), pytest.param("user", marks=needs_user_mode)],
)
def test_fork_bomb_is_capped(tmp_path, mode):
    probe = Probe("count", "_dlgrade_emit('forked', forked); _dlgrade_emit('refused', refused)")
    result = run(place(tmp_path, "fork_bomb.py"), [probe], isolation=mode, max_processes=40)
    values = result.probes["count"].values
    assert values["forked"] < 40
    assert values["refused"] is not None  # EAGAIN: the cap, not the loop bound, stopped it


def test_infinite_loop_times_out_and_later_cells_run(tmp_path):
    result = run(
        place(tmp_path, "infinite_loop.py"), [Probe("p", "_dlgrade_emit('v', after_loop)")]
    )
    assert result.status == "timeout"
    assert [c.status for c in result.cells] == ["timeout", "ok"]
    assert result.probes["p"].values["v"] == 42
    assert "timeout" in kinds(result)


def test_kernel_ignoring_interrupt_is_killed(tmp_path):
    result = run(place(tmp_path, "ignores_interrupt.py"), [Probe("p", "_dlgrade_emit('n', never)")])
    assert result.status == "timeout"
    assert [c.status for c in result.cells] == ["timeout", "skipped"]
    assert {ObservationKind.TIMEOUT, ObservationKind.KERNEL_KILLED} <= kinds(result)
    assert message(result, ObservationKind.KERNEL_KILLED) == (
        "cell 1: the kernel was killed (time limit); later cells were not run"
    )
    assert result.probes["p"].error == "not run: the kernel was killed (time limit)"
    assert result.probes["p"].stopped_by == ObservationKind.TIMEOUT


def test_memory_over_the_cap_is_recorded(tmp_path):
    result = run(place(tmp_path, "memory_hog.py"), [Probe("p", "_dlgrade_emit('a', after_memory)")])
    assert result.cells[0].error_name == "MemoryError"
    assert message(result, ObservationKind.MEMORY_LIMIT) == "cell 1 ran out of memory (cap 2048 MB)"
    assert result.probes["p"].values["a"] == 1


def test_output_flood_is_capped(tmp_path):
    result = run(place(tmp_path, "print_flood.py"))
    assert result.cells[0].output_bytes >= 100_000_000
    assert sum(len(c.text) for c in result.cells) <= FAST.max_output_bytes
    assert "output-truncated" in kinds(result)
    assert result.cells[1].status == "ok"


def test_file_size_cap(tmp_path):
    result = run(place(tmp_path, "big_file.py"))
    assert result.cells[0].status == "error"
    assert "file-size-limit" in kinds(result)


def test_pickle_payload_in_probe_values_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    result = run(
        place(tmp_path, "pickle_probe.py", MARKER=str(marker)),
        [Probe("p", "_dlgrade_emit('a', answer)")],
    )
    probe = result.probes["p"]
    assert probe.values == {} and "refused" in probe.error
    assert not marker.exists()


def test_deleting_originals_and_other_students_fails(tmp_path):
    other = tmp_path / "other_student"
    other.mkdir()
    (other / "hw.ipynb").write_text("{}")
    source = place(
        tmp_path, "delete_everything.py", ORIGINAL=str(tmp_path / "student"), OTHER=str(other)
    )
    before = (tree_digest(tmp_path / "student"), tree_digest(other))
    result = run(source)
    assert result.status == "ok"
    assert (tree_digest(tmp_path / "student"), tree_digest(other)) == before


def test_batch_of_hostile_notebooks_leaves_a_benign_one_intact(tmp_path):
    """A benign notebook run after hostile ones in the same process still grades normally."""
    for name in ("os_exit.py", "monkeypatch.py", "print_flood.py"):
        run(place(tmp_path, name, student=name.removesuffix(".py")))
    result = run(
        place(tmp_path, "benign.py", student="benign"), [Probe("w", "_dlgrade_emit('w', weights)")]
    )
    assert (
        result.status == "ok"
        and result.observations == ()
        or kinds(result) == {"isolation-reduced"}
    )
    np.testing.assert_array_equal(result.probes["w"].values["w"], np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("bwrap", marks=needs_bwrap),
        pytest.param("user", marks=needs_user_mode),
    ],
)
def test_detached_processes_die_with_the_sandbox(tmp_path, mode):
    token = f"{os.getpid() % 1000}.{time.monotonic_ns() % 10**9:09d}"  # a unique `sleep` argument
    result = run(place(tmp_path, "orphans.py", TOKEN=token), isolation=mode)
    assert result.cells[-1].text.strip() == "spawned"
    time.sleep(0.5)  # the pid namespace's teardown is asynchronous
    survivors = [p for p in Path("/proc").glob("[0-9]*") if token in _cmdline(p)]
    assert survivors == []


def test_without_isolation_detached_processes_outlive_the_notebook(tmp_path):
    """What mode `none` does not protect (README): nothing ends a notebook's daemons."""
    token = f"{os.getpid() % 1000}.{time.monotonic_ns() % 10**9:09d}"
    run(place(tmp_path, "orphans.py", TOKEN=token), isolation="none")
    survivors = [p for p in Path("/proc").glob("[0-9]*") if token in _cmdline(p)]
    for proc in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(proc.name), signal.SIGKILL)
    assert len(survivors) == 3


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""  # the process ended while we looked


@pytest.mark.parametrize("name", ["tamper_session.py", "tamper_forge.py"])
def test_tampering_with_kernel_messages_is_named_not_a_grader_crash(tmp_path, name):
    # Before: KeyError: 'msg_id' escaped from jupyter_client and every part was a harness error.
    result = run(place(tmp_path, name), [Probe("p", "_dlgrade_emit('a', after)")])
    assert result.status == "interfered"
    assert [(c.status, c.error_name) for c in result.cells] == [
        ("error", "KernelInterference"),
        ("skipped", None),
    ]
    assert kinds(result) <= {ObservationKind.INTERFERED, ObservationKind.ISOLATION_REDUCED}
    assert message(result, ObservationKind.INTERFERED) == (
        "the notebook interfered with the grader's kernel messages during cell 1 (a kernel "
        "message broke the protocol (KeyError: 'msg_id')); later cells were not run"
    )
    probe = result.probes["p"]
    assert (probe.values, probe.stopped_by) == ({}, ObservationKind.INTERFERED)
    assert probe.error == "not run: the notebook interfered with the grader's kernel messages"


def test_json_nested_past_the_readers_limit_is_malformed_not_a_crash(tmp_path):
    code = "def train_one_sample(sample, y, learning_rate=0.003):\n    pass\n"
    path = deeply_nested_notebook(tmp_path / "deb" / "hw1p5.ipynb", code)
    assert path.stat().st_size > 2_000_000
    found = discover(path.parent).sources[0]
    assert found.status == "malformed"
    assert found.error == (
        "hw1p5.ipynb is nested too deeply to read: its JSON goes deeper than the reader's limit "
        f"(Python's recursion limit, {sys.getrecursionlimit()} levels); clear its outputs and "
        "re-save it from Jupyter"
    )
    # Its problem is still known from the code inside the unreadable JSON.
    assert found.problem_ids == ("p5",)
    result = run(SourceFile(path, "ipynb", "ok"), [Probe("p", "pass")])
    assert (result.status, result.cells) == ("malformed", ())
    assert result.probes["p"].stopped_by == ObservationKind.MALFORMED
    assert kinds(result) == {ObservationKind.MALFORMED}
