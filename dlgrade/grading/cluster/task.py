"""One student graded on a Dask worker (`grade_task`), and the retry count kept for it.

The task grades in a child forked from the worker's zygote
(`dlgrade.grading.cluster.worker.GradingPlugin`), exactly as locally: a
process of its own, in its own process group (killed whole at the time limit
or when the client cancels). Grading never happens inside the long-lived
worker process. Its notebooks run in the batch's isolation mode, which
`worker.worker_options` proves usable on the worker before it grades anyone.

A worker that dies mid-task is the scheduler's to notice: it reruns the task
on another worker, and `grade_task` refuses a third start (`MAX_STARTS`),
whatever the scheduler's `allowed-failures`, with an error record naming the
lost workers. Only starts whose grading never ended count: a finished task
rerun because its result died with its worker is graded again.
"""

from __future__ import annotations

import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from distributed import get_client, get_worker

from dlgrade.grading.archive import unpack_archive
from dlgrade.grading.cluster.worker import GradingPlugin, WorkerUnfit, describe_worker
from dlgrade.grading.errors import error_record
from dlgrade.grading.log import LOG_NAME
from dlgrade.grading.result import UnitResult
from dlgrade.grading.student_files import student_files
from dlgrade.records import GradeRecord, Observation, ObservationKind

MAX_STARTS = 2  # a student's first try and one retry after its worker was lost
POLL_S = 0.2  # how often a task looks at its child and at its own cancellation
ENDED_STATES = frozenset({"cancelled", "released", "forgotten"})


def grade_task(plugin_name: str, student: str, submission: bytes | str) -> dict:
    """Grade one student on this worker; `UnitResult.to_dict()` with the worker named.

    `submission`: the zip of the student's folder, or (with --shared-fs) its path.
    """
    worker = get_worker()
    plugin = _plugin(worker, plugin_name)
    lost_on = starts_of(get_client(), plugin_name, student)  # earlier starts died with workers
    if len(lost_on) >= MAX_STARTS:
        return lost_workers_result(student, lost_on, plugin.spec).to_dict()
    key = worker.get_current_task()
    with tempfile.TemporaryDirectory(prefix="dlgrade-", dir=worker.local_directory) as scratch:
        try:
            folder = _materialise(submission, Path(scratch) / "submission", student)
        except (OSError, ValueError) as err:
            reason = f"the submission could not be laid out on the worker: {err}"
            record = error_record(student, reason, 0.0, bool(plugin.spec["options"]["quick"]))
            return with_worker(UnitResult(record), worker, lost_on).to_dict()
        try:
            zygote = plugin.zygote()
            job = zygote.submit(student, folder, Path(scratch) / "work")
        except WorkerUnfit as err:
            message = f"{describe_worker(worker)} cannot grade: {err}"
            raise WorkerUnfit(message, worker.address) from None
        # Counted once the student's code may run: a worker that is lost before (or that
        # cannot grade at all) costs the student no try.
        _record_starts(plugin_name, student, [*lost_on, worker.address])
        worker.log_event(plugin_name, {"key": key, "student": student})  # the client's "now:"
        while not zygote.poll(job):
            if _cancelled(worker, key):
                zygote.kill(job)  # the client gave up on this task (timeout, Ctrl-C)
                break
            time.sleep(POLL_S)
        result = relocated(job.finish(), job.work_dir)
        # The grading ended here, so this start was not lost. The scheduler reruns a task
        # whose finished result died with its worker before the client fetched it; that
        # rerun must not count this start as a lost one.
        _record_starts(plugin_name, student, lost_on)
    return with_worker(result, worker, lost_on).to_dict()


def _plugin(worker: object, name: str) -> GradingPlugin:
    # A worker that joins while the client registers may get a task a moment before the plugin.
    deadline = time.monotonic() + 60.0
    while name not in worker.plugins:
        if time.monotonic() > deadline:
            message = f"{describe_worker(worker)} cannot grade: it never received the plugin"
            raise WorkerUnfit(message, worker.address)
        time.sleep(0.1)
    return worker.plugins[name]


def _record_starts(batch: str, student: str, workers: list[str]) -> None:
    """Keep on the scheduler the workers this student's grading started on and never ended."""
    get_client().set_metadata(["dlgrade", batch, "starts", student], workers)


def starts_of(client: object, batch: str, student: str) -> list[str]:
    """The workers a student's grading started on and never ended: those it lost."""
    return list(client.get_metadata(["dlgrade", batch, "starts", student], default=[]))


def _materialise(submission: bytes | str, target: Path, student: str) -> Path:
    if isinstance(submission, bytes | bytearray):
        (target / student).mkdir(parents=True)  # an empty hand-in is still a folder
        folder = unpack_archive(bytes(submission), target)  # the zip holds <student>/...
        if folder.name != student:
            raise ValueError(f"the archive shipped for {student} holds no folder of that name")
        return folder
    folder = Path(submission)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"--shared-fs: the submission folder {folder} is not visible on {socket.gethostname()}; "
            "drop --shared-fs to ship submissions to the workers"
        )
    return folder


def _cancelled(worker: object, key: object) -> bool:
    task = worker.state.tasks.get(key)
    return task is None or task.state in ENDED_STATES


def lost_workers_result(student: str, lost_on: list[str], spec: dict) -> UnitResult:
    """The error record of a student whose grading lost `MAX_STARTS` workers."""
    where = f" ({', '.join(lost_on)})" if lost_on else ""
    reason = (
        f"the Dask workers grading this student were lost twice{where}: each was killed, "
        "ran out of memory or lost its node mid-task, so the student is not retried again; "
        "a student who keeps losing workers may have code that exhausts the node's memory"
    )
    quick = bool(spec.get("options", {}).get("quick", False))
    return rendered(error_record(student, reason, 0.0, quick), {})


def relocated(result: UnitResult, work_dir: Path) -> UnitResult:
    """Point messages at the log the client writes, not at the worker's scratch copy."""
    scratch_log = str(work_dir / LOG_NAME)
    shipped = f"{LOG_NAME} next to this report"
    notes = [
        replace(note, message=note.message.replace(scratch_log, shipped))
        for note in result.record.observations
    ]
    return UnitResult(replace(result.record, observations=notes), result.files)


def with_worker(result: UnitResult, worker: object, lost_on: list[str]) -> UnitResult:
    """The result with an observation naming where it was graded, its files re-rendered."""
    message = f"graded on Dask {describe_worker(worker)}"
    if lost_on:
        message += f", after {' and '.join(lost_on)} was lost while grading this student"
    record = worker_noted(result.record, message)
    return rendered(record, result.files)


def worker_noted(record: GradeRecord, message: str) -> GradeRecord:
    note = Observation(source="harness", kind=ObservationKind.WORKER, message=message)
    return replace(record, observations=[*record.observations, note])


def rendered(record: GradeRecord, files: dict[str, bytes]) -> UnitResult:
    """`files` with the ones derived from the record (grade.json, report.html) redone."""
    return UnitResult(record, {**files, **student_files(record)})
