"""Records of a grading that did not complete, what an exit code means, and which of
them a resumed run grades again."""

from __future__ import annotations

from dlgrade.records import GradeRecord, Observation, ObservationKind, PartStatus

# How an error record says the harness lost the student (dlgrade.grading.zygote; the Dask
# worker's lost_workers_result): the student's code is not to blame, so resume retries it.
LOST_SERVER = "lost with the grading server"
LOST = (LOST_SERVER, "Dask workers grading this student were lost")
KERNEL_NOT_STARTED = "KernelStartError"  # named in the part's harness-error message


def error_record(student: str, reason: str, duration_s: float, quick: bool) -> GradeRecord:
    """A record for a submission whose grading did not complete."""
    return GradeRecord(
        student=student,
        assignment="",
        results=[],
        status="error",
        duration_s=round(duration_s, 3),
        observations=[Observation("harness", ObservationKind.GRADING_ERROR, reason)],
        quick=quick,
    )


def harness_lost(record: GradeRecord) -> bool:
    """Whether the record is an error of the harness losing the student (its grading
    server or worker died), not of the student's code: a resumed run retries it."""
    return record.status == "error" and any(
        note.kind == ObservationKind.GRADING_ERROR and any(mark in note.message for mark in LOST)
        for note in record.observations
    )


def worth_retrying(record: GradeRecord) -> bool:
    """Whether a resumed run should grade the student again: the harness lost them, or a
    notebook kernel never started (killed while starting, the machine out of processes).
    Never for what the student's code did: a timeout, a crash, a failed check."""
    return harness_lost(record) or any(
        result.status == PartStatus.ERROR and KERNEL_NOT_STARTED in result.message
        for result in record.results
    )


def exit_meaning(code: int) -> str:
    import signal

    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:  # a signal number Python has no name for
            return f"killed by signal {-code}"
    return {
        2: "interrupted",
        3: "internal error in pytest or a plugin",
        4: "command line usage error",
        5: "no checks were collected",
    }.get(code, "unexpected")
