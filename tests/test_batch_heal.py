"""The local batch heals: a zygote that dies is replaced and the students it lost are retried.

The stand-in checks (tests/batch_standin.py) kill the zygote from inside a
child, as the OOM killer would take both; the last test kills the real
zygote from outside with `kill -9` while `dlgrade grade` grades real
(answers-only) submissions with the harness's own checks.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission
from graded_out import grade_in

from dlgrade.grading.batch import grade_class
from dlgrade.grading.options import GradeOptions
from dlgrade.records import ObservationKind

REPOSITORY = Path(__file__).resolve().parents[1]
FULL_MARKS = REPOSITORY / "submissions" / "examples" / "fall2023-full-marks"


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def _class(root: Path, marker: Path, times: int) -> None:
    for name in ("alice", "carol", "dave"):
        write_submission(root, name, score=1.0)
    write_submission(root, "bob", score=1.0, kill_zygote={"marker": str(marker), "times": times})


def test_a_student_lost_with_the_zygote_is_retried_and_the_class_goes_on(tmp_path, checks):
    root, out, marker = tmp_path / "class", tmp_path / "out", tmp_path / "killed"
    _class(root, marker, times=1)
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    outcome = grade_class(root, out, options, jobs=1, progress=False)
    assert marker.read_text() == "killed\n"  # the zygote really died once
    assert sorted(outcome.graded) == ["alice", "bob", "carol", "dave"]
    for name in ("alice", "bob", "carol", "dave"):
        assert grade_in(out, name).status == "graded" and grade_in(out, name).total == 30.0
    notes = [
        o.message for o in grade_in(out, "bob").observations if o.kind == ObservationKind.WORKER
    ]
    assert len(notes) == 1 and "graded again on a restarted grading server" in notes[0]
    assert "lost with the grading server" in notes[0]


def test_a_second_loss_is_an_error_naming_both_and_resume_retries_it(tmp_path, checks):
    root, out, marker = tmp_path / "class", tmp_path / "out", tmp_path / "killed"
    _class(root, marker, times=2)
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    grade_class(root, out, options, jobs=2, progress=False)
    bob = grade_in(out, "bob")
    assert bob.status == "error"
    message = bob.observations[0].message
    assert "lost with the grading server twice" in message
    assert message.count("lost with the grading server") == 3  # the summary and both losses
    assert all(grade_in(out, n).status == "graded" for n in ("alice", "carol", "dave"))
    # The loss was the harness's, not bob's: a resumed run retries him (and only him).
    again = grade_class(root, out, options, jobs=2, progress=False)
    assert again.graded == ["bob"] and sorted(again.resumed) == ["alice", "carol", "dave"]
    assert grade_in(out, "bob").status == "graded"
    assert (out / "bob" / "grade.previous.json").is_file()  # the error record, kept


def test_resume_never_retries_an_error_of_the_students_own(tmp_path, checks):
    root, out = tmp_path / "class", tmp_path / "out"
    write_submission(root, "carol", exit=3)  # her code crashes the grading process
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    assert grade_class(root, out, options, jobs=1, progress=False).graded == ["carol"]
    assert grade_in(out, "carol").status == "error"
    assert grade_class(root, out, options, jobs=1, progress=False).resumed == ["carol"]


def _zygotes_of(parent: int) -> list[int]:
    """The pids of the grading zygotes `parent` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"dlgrade.grading.zygote_server" in cmdline:
            found.append(int(entry.name))
    return found


def test_kill_9_of_the_real_zygote_mid_batch_costs_no_student_a_grade(tmp_path):
    root, out = tmp_path / "class", tmp_path / "out"
    names = [f"student{i}" for i in range(1, 7)]
    for name in names:
        (root / name).mkdir(parents=True)
        shutil.copy(FULL_MARKS / "answers.toml", root / name / "answers.toml")
    command = [sys.executable, "-m", "dlgrade", "grade", str(root), "--out", str(out)]
    command += ["--jobs", "1", "--no-progress", "--no-similarity", "--problems", "p1,p2,p3"]
    batch = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("*/grade.json")) and time.monotonic() < deadline:
            assert batch.poll() is None, "the batch ended before the zygote could be killed"
            time.sleep(0.05)
        zygotes = _zygotes_of(batch.pid)
        assert len(zygotes) == 1, zygotes
        os.kill(zygotes[0], signal.SIGKILL)  # the OOM killer's way
        stdout, _ = batch.communicate(timeout=300)
    finally:
        batch.kill()
    assert batch.returncode == 0, stdout
    assert len(list(out.glob("*/grade.json"))) == 6  # some were graded after the kill
    for name in names:
        record = grade_in(out, name)
        assert record.status == "graded", record.observations
        assert record.total == 28.0  # as graded with no fault: 3a needs a notebook, 2c a TA
    assert "0 grading error(s)" in stdout


def test_resume_retries_a_kernel_that_never_started_but_not_other_harness_errors(tmp_path, checks):
    root, out = tmp_path / "class", tmp_path / "out"
    killed = "harness error (KernelStartError: the kernel did not start (Kernel died)); ..."
    write_submission(root, "alice", verdicts={"5-q2": ["error", killed]})
    write_submission(root, "bob", verdicts={"5-q2": ["error", "harness error (KeyError: 'w')"]})
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    assert sorted(grade_class(root, out, options, jobs=2, progress=False).graded) == [
        "alice",
        "bob",
    ]
    write_submission(root, "alice", score=1.0)  # the kernel starts this time
    again = grade_class(root, out, options, jobs=2, progress=False)
    assert again.graded == ["alice"] and again.resumed == ["bob"]
    assert not grade_in(out, "alice").harness_errors and grade_in(out, "bob").harness_errors


def _kill_session(session: int) -> None:
    """SIGKILL every process left in `session` (the batch and what it started)."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getsid(int(entry.name)) == session:
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:  # gone meanwhile
            continue


def _running(pid: int) -> bool:
    try:  # a zombie (state Z) has ended; only its parent has not read its status yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def test_kill_9_of_the_batch_parent_loses_nothing_and_the_resume_grades_the_rest(tmp_path, checks):
    root, out, started = tmp_path / "class", tmp_path / "out", tmp_path / "bob-started"
    for name in ("alice", "carol", "dave"):
        write_submission(root, name, score=1.0, sleep=1.0)
    write_submission(root, "bob", score=1.0, sleep=30.0, started_marker=str(started))
    command = [sys.executable, "-m", "dlgrade", "grade", str(root), "--out", str(out)]
    command += ["--checks", str(checks), "--jobs", "1", "--no-progress", "--no-similarity"]
    batch = subprocess.Popen(
        command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while not started.exists() and time.monotonic() < deadline:  # alice done, bob in flight
            assert batch.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.05)
        os.kill(batch.pid, signal.SIGKILL)  # a closed laptop, an OOM kill of the parent
        batch.wait(timeout=60)
    finally:
        _kill_session(batch.pid)  # whatever else it left in its session
    # The zygote (a session of its own) stops bob's grader once its launcher is gone.
    grader, deadline = int(started.read_text()), time.monotonic() + 60
    while _running(grader) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(grader), "bob's grader outlived the killed batch"
    assert grade_in(out, "alice").status == "graded" and grade_in(out, "alice").total == 30.0
    assert not (out / "bob" / "grade.json").exists()  # in flight: no grade, so resumed
    assert not list(out.rglob("*.part"))  # nothing half-written
    write_submission(root, "bob", score=1.0, sleep=0.0)
    again = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "graded 3 submission(s)" in again.stdout and "1 already graded" in again.stdout
    for name in ("alice", "bob", "carol", "dave"):
        assert grade_in(out, name).status == "graded" and grade_in(out, name).total == 30.0
