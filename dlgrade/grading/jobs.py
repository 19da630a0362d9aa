"""The job loop: grade students N at a time, one process each (forked from a zygote, or a
fresh interpreter), and write each into OUT/<student>/ as it finishes.

A student whose grading server died under them is tried once more first; one
student's files that cannot be written cost that student only; a full OUT stops
the loop (`OutFull`) with nothing half-written. The Dask client shares the
progress bar and `write_unit`.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from dlgrade.grading.batch_errors import BatchError, OutFull, disk_full, out_full
from dlgrade.grading.errors import LOST_SERVER, error_record, harness_lost
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import (
    GRADE_FILE,
    keep_previous_grade,
    student_files,
    write_student_files,
)
from dlgrade.grading.result import UnitResult
from dlgrade.grading.runner import GradingJob
from dlgrade.grading.threads import thread_budget
from dlgrade.grading.zygote import ForkedJob, ZygoteKeeper
from dlgrade.records import PLEASE_REPORT, GradeRecord, Observation, ObservationKind

POLL_S = 0.1  # how often finished processes are noticed; cheap next to grading
Launcher = Literal["zygote", "fresh"]
LAUNCHERS: tuple[Launcher, ...] = ("zygote", "fresh")


@contextlib.contextmanager
def job_starter(
    options: GradeOptions, launcher: Launcher
) -> Iterator[Callable[[str, Path, Path], GradingJob | ForkedJob]]:
    """`start(student, folder, work_dir)` for the chosen launcher (the zygote lives this long)."""
    if launcher not in LAUNCHERS:
        raise BatchError(f"unknown launcher {launcher!r}; choose one of {', '.join(LAUNCHERS)}")
    if launcher == "fresh":
        yield lambda name, folder, work: GradingJob(name, folder, work, options)
        return
    keeper = ZygoteKeeper(options)  # a zygote that dies is replaced at the next submission
    try:
        yield lambda name, folder, work: keeper.live().submit(name, folder, work, options)
    finally:
        keeper.close()


def run_jobs(
    todo: dict[str, Path],
    out: Path,
    options: GradeOptions,
    jobs: int,
    on_done: Callable[[GradeRecord], None] = lambda record: None,
    progress: bool = True,
    launcher: Launcher = "zygote",
) -> list[GradeRecord]:
    """Grade `todo` with at most `jobs` processes at once; write each student's files."""
    if jobs < 1:
        raise BatchError(f"--jobs must be at least 1, got {jobs}")
    if not todo:
        return []
    options = thread_budget(options, jobs)
    pending = deque(todo.items())
    running: list[GradingJob | ForkedJob] = []
    records = []
    losses: dict[str, str] = {}  # student -> how the harness lost their first try
    bar = progress_bar(len(todo), progress)
    with bar, job_starter(options, launcher) as start:
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    name, folder = pending.popleft()
                    running.append(start(name, folder, out / name))
                bar.set_postfix_str("now: " + ", ".join(j.student for j in running), refresh=False)
                bar.update(0)  # redraws at most once per mininterval, so the clock keeps ticking
                finished = [job for job in running if job.poll()]
                for job in finished:
                    running.remove(job)
                    result = job.finish()
                    if harness_lost(result.record) and job.student not in losses:
                        # The grading server died under this student: one more try, first.
                        losses[job.student] = _how_lost(result.record)
                        pending.appendleft((job.student, todo[job.student]))
                        continue
                    result = after_loss(result, losses.get(job.student))
                    if result.record.status == "error" and (full := out_full(out)):
                        raise OutFull(full)  # an error of the full disk, not the student's
                    write_unit(out, result)
                    records.append(result.record)
                    on_done(result.record)
                    bar.update(1)
                if not finished:
                    time.sleep(POLL_S)
        except OutFull as full:
            # Those running cannot be written either: stopped, they are left to the resume.
            raise OutFull(full.error, records) from full.error
        finally:
            # Interrupted (Ctrl-C) or a harness bug: leave no orphaned graders behind.
            for job in running:
                job.kill()
    return records


def _how_lost(record: GradeRecord) -> str:
    notes = [o.message for o in record.observations if o.kind == ObservationKind.GRADING_ERROR]
    return (notes[0].splitlines() or [""])[0] if notes else "lost"


def after_loss(result: UnitResult, first_loss: str | None) -> UnitResult:
    """The result of a student's second try, saying that the first was lost; a second loss
    is an error record naming both (a student whose code keeps killing the server)."""
    if first_loss is None:
        return result
    record = result.record
    if harness_lost(record):
        reason = (
            f"this student's grading was {LOST_SERVER} twice, so it was not retried again "
            "(a student who keeps losing it may have code that exhausts the machine's memory); "
            f"first: {first_loss}; then: {_how_lost(record)}"
        )
        record = error_record(record.student, reason, record.duration_s, record.quick)
    else:
        note = Observation(
            "harness",
            ObservationKind.WORKER,
            f"graded again on a restarted grading server: the first try {first_loss}",
        )
        record = replace(record, observations=[*record.observations, note])
    return UnitResult(record, {**result.files, **student_files(record)})


def progress_bar(total: int, enabled: bool = True) -> tqdm:
    """The batch's bar: done/total and ETA; runners put the students being graded in its postfix."""
    return tqdm(
        total=total,
        unit="student",
        disable=not enabled or not total,  # nothing to grade: no empty bar
        dynamic_ncols=True,
        mininterval=1.0,
    )


def write_unit(out: Path, result: UnitResult) -> None:
    """A student's files into OUT/<student>/, under the batch's name for the student.

    Files that cannot be written (a name the disk refuses, a path a folder
    holds) cost that student only: a grade.json alone says why, the class goes on.
    A full disk is everyone's: `OutFull`, and no grade.json, so a resume grades them.
    """
    student = result.record.student
    try:
        keep_previous_grade(out, student)
        write_student_files(out, student, result.files)
    except Exception as err:
        if disk_full(err):
            raise OutFull(err) from err  # grade.json is written last: none is there
        traceback.print_exc()
        reason = (
            f"the grading files could not be written into {out / student} "
            f"({type(err).__name__}: {err}); {PLEASE_REPORT}"
        )
        record = error_record(student, reason, result.record.duration_s, result.record.quick)
        try:
            write_student_files(out, student, {GRADE_FILE: student_files(record)[GRADE_FILE]})
        except Exception:  # not even grade.json: stderr is all that is left to say it
            traceback.print_exc()
