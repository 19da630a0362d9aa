"""How a launcher reads the end of a grading process: the result it left, else an
error record saying why (a time limit, an exit code, no result, an unreadable one).

Both launchers (a fresh interpreter, `runner.GradingJob`; a child of the zygote,
`zygote.ForkedJob`) end here, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade import progress
from dlgrade.engine.reaper import LEDGER_NAME, reap_ledger
from dlgrade.grading.errors import error_record, exit_meaning
from dlgrade.grading.log import tail
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.result import RESULT_NAME, UnitResult, collect_files, read_result
from dlgrade.records import CheckResult, GradeRecord, Observation, ObservationKind, PartStatus


@dataclass(frozen=True)
class Ending:
    """How a grading process ended, as the launcher that started it saw it."""

    duration_s: float
    timed_out: bool  # the launcher stopped it at the time limit
    exit_code: int | None  # None: never learned (the zygote that forked it died first)
    unknown_exit: str = "ended without reporting its exit code"


def ended_result(
    student: str, options: GradeOptions, work_dir: Path, log: Path, ending: Ending
) -> UnitResult:
    """What a grading process left in `work_dir`: its result, else an error record saying why.

    Both launchers (a fresh interpreter, a child of the zygote) end here. A result is
    taken only from a process that was not stopped and did not exit with an error;
    the file is written atomically, so one that exists is complete.
    """

    def failed(reason: str) -> UnitResult:
        record = error_record(student, reason, ending.duration_s, options.quick)
        return UnitResult(record, collect_files(record, work_dir, options.junit))

    # Whatever the notebooks started dies before anything they could reach is read.
    reap_ledger(work_dir / LEDGER_NAME)
    where = f"log: {log}\n{tail(log)}"
    result_path = work_dir / RESULT_NAME
    so_far = progress.read_progress(work_dir)
    progress.clear(work_dir)
    if ending.timed_out and so_far is not None:
        record = stopped_record(student, so_far, options, ending.duration_s, log)
        return UnitResult(record, collect_files(record, work_dir, options.junit))
    if ending.timed_out:
        return failed(
            f"grading exceeded the {options.timeout_s:g} s limit and was stopped; {where}"
        )
    written = result_path.is_file()
    if ending.exit_code is None:
        how = ending.unknown_exit
    else:
        how = f"exited with code {ending.exit_code} ({exit_meaning(ending.exit_code)})"
    if not written or ending.exit_code not in (0, None):
        after = "after writing a record" if written else "without writing a record"
        return failed(f"the grading process {how} {after}; {where}")
    try:
        return read_result(result_path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        return failed(f"the result {result_path} is unreadable: {err!r}")
    finally:
        result_path.unlink(missing_ok=True)


def stopped_record(
    student: str, so_far: progress.Progress, options: GradeOptions, duration_s: float, log: Path
) -> GradeRecord:
    """The record of a student stopped at their time limit: the student's doing, not an error.

    Parts judged before the kill keep their verdicts; every other part is `timeout`,
    naming the cell that was running (the pytest log is the TA's, not the message's).
    """
    limit = f"the {options.timeout_s:g} s limit for one student (--timeout)"
    running = f"while {so_far.cell} was running" if so_far.cell else "between notebook cells"
    message = f"not judged: grading reached {limit} {running}"
    results = [so_far.judged.get(part.part) or _timed_out(part, message) for part in so_far.parts]
    note = (
        f"grading was stopped at {limit} {running}; parts judged before keep their "
        f"verdicts, the others are timeout; log: {log}"
    )
    return GradeRecord(
        student=student,
        assignment=so_far.assignment,
        results=results,
        duration_s=round(duration_s, 3),
        observations=[Observation("harness", ObservationKind.TIMEOUT, note)],
        quick=options.quick,
    )


def _timed_out(part: CheckResult, message: str) -> CheckResult:
    return replace(part, points=0.0, status=PartStatus.TIMEOUT, message=message, details={})
