"""The client side: one Dask task per student; only this process writes OUT.

Each student is shipped as a zip of their folder (size-capped, like the
archives `grade_submission` accepts) or, with `--shared-fs`, as the folder's
path. Results come back as `UnitResult.to_dict()` and are written to
OUT/<student>/ the moment they arrive (atomically, grade.json last), so an
interrupted client resumes like the local runner.

Whatever happens on the cluster, every student ends with a record:

* a worker that dies mid-task: the scheduler reruns the task on another worker
  once; a second loss is an `error` record naming both workers;
* a worker that cannot grade (no datasets, no checks): reported once, naming
  it, and its students retried on the other workers;
* past `--timeout`: the worker kills the student's process group and records
  it; should the worker not answer `CANCEL_GRACE_S` later, the task is
  cancelled here and recorded as such;
* losing the scheduler stops the batch without records for the students not
  yet graded, so a rerun grades them.
"""

from __future__ import annotations

import contextlib
import io
import queue
import stat
import sys
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dlgrade.engine.paths import hand_in_files
from dlgrade.grading.archive import MAX_ARCHIVE_BYTES
from dlgrade.grading.batch_errors import BatchError
from dlgrade.grading.cluster.backends import GPU_RESOURCE, Session, connect
from dlgrade.grading.cluster.config import Backend
from dlgrade.grading.cluster.task import (
    MAX_STARTS,
    grade_task,
    lost_workers_result,
    rendered,
    starts_of,
)
from dlgrade.grading.cluster.worker import (
    DATASETS_PLUGIN,
    DatasetsPlugin,
    GradingPlugin,
    WorkerUnfit,
)
from dlgrade.grading.errors import error_record
from dlgrade.grading.jobs import progress_bar, write_unit
from dlgrade.grading.options import GradeOptions, options_to_dict
from dlgrade.grading.outputs import GRADE_FILE
from dlgrade.grading.result import UnitResult
from dlgrade.grading.runner import default_checks_dir
from dlgrade.records import GradeRecord

POLL_S = 0.2  # how often finished tasks are collected; nothing next to grading
MAX_BYTES_IN_FLIGHT = 1 << 30  # zips held by this client and the scheduler at once
CANCEL_GRACE_S = 120.0  # past the time limit, how long the worker has to stop the student
P4_NAMES = frozenset({"p4", "4", "fashion_mlp"})  # what --problems may call problem 4


@dataclass
class Attempt:
    """One student's task on the cluster."""

    student: str
    folder: Path
    size: int  # bytes shipped
    tries: int = 1  # starts after a worker proved unfit count as new tries
    forked_at: float | None = None  # when the worker started grading (its event)
    cancel_reason: str | None = None


def run_on_cluster(
    todo: dict[str, Path],
    out: Path,
    options: GradeOptions,
    backend: Backend,
    shared_fs: bool = False,
    progress: bool = True,
    on_done: Callable[[GradeRecord], None] = lambda record: None,
) -> list[GradeRecord]:
    """Grade `todo` on the cluster `backend` describes; write each student's files to OUT."""
    if not todo:
        return []
    with connect(backend) as session:
        say(f"grading {len(todo)} submission(s) on {session.description}")
        if session.dashboard:
            say(f"Dask dashboard: {session.dashboard}")
        batch = ClusterBatch(session, out, options, shared_fs, on_done)
        return batch.run(todo, progress)


class ClusterBatch:
    """The tasks of one `dlgrade grade` run on one cluster."""

    def __init__(
        self,
        session: Session,
        out: Path,
        options: GradeOptions,
        shared_fs: bool,
        on_done: Callable[[GradeRecord], None],
    ) -> None:
        from distributed import as_completed

        self.session = session
        self.client = session.client
        self.out = out
        self.options = options
        self.shared_fs = shared_fs
        self.on_done = on_done
        self.name = f"dlgrade-{uuid.uuid4().hex[:12]}"  # the plugin, the event topic
        self.spec = {
            "options": options_to_dict(options),
            "default_checks": _is_default_checks(options),
        }
        self.gpu = session.offers_gpu()
        self.live: dict[object, Attempt] = {}  # Future -> Attempt
        self.by_key: dict[str, object] = {}
        self.unfit: dict[str, str] = {}  # worker address -> why it cannot grade
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.completed = as_completed()
        self.records: list[GradeRecord] = []
        self.bytes_in_flight = 0

    def run(self, todo: dict[str, Path], progress: bool) -> list[GradeRecord]:
        self.client.register_plugin(DatasetsPlugin(), name=DATASETS_PLUGIN)
        self.client.register_plugin(GradingPlugin(self.name, self.spec), name=self.name)
        self.client.subscribe_topic(self.name, self.events.put)
        pending = deque(todo.items())
        try:
            with progress_bar(len(todo), progress) as bar:
                while pending or self.live:
                    self._submit_from(pending, bar)
                    finished = self.completed.next_batch(block=False)
                    for future in finished:
                        self._settle(future, bar)
                    if not finished:
                        self._watch(bar)
                        time.sleep(POLL_S)
        finally:
            # Interrupted, or the scheduler is gone: cancelled tasks kill their students'
            # processes on the workers; the workers' zygotes go with the plugin.
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.live))
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.name)
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(self.name)
        return self.records

    # ------------------------------------------------------------ submitting

    def _submit_from(self, pending: deque, bar: object) -> None:
        while pending and self.bytes_in_flight < MAX_BYTES_IN_FLIGHT:
            student, folder = pending.popleft()
            size = folder_size(folder)
            if not self.shared_fs and size > MAX_ARCHIVE_BYTES:
                reason = (
                    f"the submission folder holds {size} bytes, more than the "
                    f"{MAX_ARCHIVE_BYTES} that can be shipped to a worker; grade it with "
                    "--shared-fs or with the local runner"
                )
                self._write(self._error(student, reason), bar)
                continue
            self._submit(Attempt(student, folder, 0 if self.shared_fs else size))

    def _submit(self, attempt: Attempt) -> None:
        payload: bytes | str = (
            str(attempt.folder.resolve())
            if self.shared_fs
            else zip_submission(attempt.folder, attempt.student)
        )
        restrictions: dict = {}
        if self.gpu and self._needs_gpu(attempt.folder):
            restrictions["resources"] = {GPU_RESOURCE: 1}
        if self.unfit:
            restrictions["workers"] = self._fit_workers()
            restrictions["allow_other_workers"] = False
        key = f"grade-{attempt.student}-{self.name}-{attempt.tries}"
        future = self.client.submit(
            grade_task, self.name, attempt.student, payload, key=key, pure=False, **restrictions
        )
        self.live[future] = attempt
        self.by_key[key] = future
        self.bytes_in_flight += attempt.size
        self.completed.add(future)

    def _needs_gpu(self, folder: Path) -> bool:
        """The submission holds P4 and P4 is graded: its training is what a GPU speeds up."""
        from dlgrade.engine import discover

        selected = {p.lower() for p in self.options.problems}
        if selected and not selected & P4_NAMES:
            return False
        try:
            return "p4" in discover(folder).problems
        except OSError:
            return False  # the worker will say what is wrong with the folder

    def _fit_workers(self) -> list[str]:
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return [address for address in workers if address not in self.unfit]

    # ------------------------------------------------------------ collecting

    def _settle(self, future: object, bar: object) -> None:
        if future.status in ("lost", "pending"):
            # It finished, then the worker holding its result died before the result was
            # fetched: the scheduler computes it again; wait for that.
            self.completed.add(future)
            return
        attempt = self.live.pop(future)
        self.by_key.pop(future.key, None)
        self.bytes_in_flight -= attempt.size
        result = self._outcome(future, attempt)
        if result is not None:
            self._write(result, bar)

    def _outcome(self, future: object, attempt: Attempt) -> UnitResult | None:
        """The student's result, or None when the student was resubmitted."""
        from distributed import KilledWorker

        student = attempt.student
        if future.status == "finished":
            return UnitResult.from_dict(future.result())
        if future.status == "cancelled":
            if attempt.cancel_reason is not None:
                return self._error(student, attempt.cancel_reason)
            self._require_scheduler()
            return self._error(student, "the task was cancelled on the cluster before it ended")
        error = future.exception()
        if isinstance(error, KilledWorker):  # the scheduler's own cap on lost workers
            lost_on = starts_of(self.client, self.name, student)
            return lost_workers_result(student, lost_on, self.spec)
        if isinstance(error, WorkerUnfit):
            return self._unfit(error, attempt)
        self._require_scheduler()
        return self._error(
            student, f"grading on the cluster failed: {type(error).__name__}: {error}"
        )

    def _unfit(self, error: WorkerUnfit, attempt: Attempt) -> UnitResult | None:
        if error.address not in self.unfit:
            self.unfit[error.address] = str(error)
            say(f"error: {error}")
        if attempt.tries < MAX_STARTS and self._fit_workers():
            attempt.tries += 1
            attempt.forked_at = None
            self._submit(attempt)
            return None
        return self._error(attempt.student, f"no worker could grade this student: {error}")

    def _write(self, result: UnitResult, bar: object) -> None:
        if GRADE_FILE not in result.files:  # every student leaves a grade.json, whatever came back
            result = rendered(result.record, result.files)
        write_unit(self.out, result)
        self.records.append(result.record)
        self.on_done(result.record)
        bar.update(1)

    def _error(self, student: str, reason: str) -> UnitResult:
        return rendered(error_record(student, reason, 0.0, self.options.quick), {})

    def _require_scheduler(self) -> None:
        if self.client.status != "running":
            raise BatchError(
                f"lost the connection to the Dask scheduler ({self.client.status}); the "
                f"students graded so far are in {self.out}: rerun the same command to grade the rest"
            )

    # ------------------------------------------------------------ watching

    def _watch(self, bar: object) -> None:
        """Note which students the workers are grading; cancel one far past its limit."""
        now = time.monotonic()
        while not self.events.empty():
            _, message = self.events.get()
            future = self.by_key.get(message.get("key"))
            if future is not None and future in self.live:
                self.live[future].forked_at = now
        running = [a for a in self.live.values() if a.forked_at is not None]
        bar.set_postfix_str("now: " + ", ".join(a.student for a in running), refresh=False)
        bar.update(0)  # redraws at most once per mininterval, so the clock keeps ticking
        limit = self.options.timeout_s
        if limit is None:
            return
        for future, attempt in list(self.live.items()):
            overdue = (
                attempt.forked_at is not None and now - attempt.forked_at > limit + CANCEL_GRACE_S
            )
            if overdue and attempt.cancel_reason is None:
                attempt.cancel_reason = (
                    f"grading exceeded the {limit:g} s limit and its worker did not stop it "
                    f"within {CANCEL_GRACE_S:g} s more; the task was cancelled"
                )
                self.client.cancel([future])


def zip_submission(folder: Path, student: str) -> bytes:
    """The folder's files (and links, as links) under one top-level directory named for the
    student: it unpacks (`archive.unpack_archive`) to the same tree as the folder, so the
    worker's grading names a link as local grading does.

    The top-level directory is what keeps the tree the same: without it, a folder
    holding one sub-folder only would unpack to that sub-folder. A link goes in as a
    link entry (its target's text, never the file it leads to)."""
    files, links = hand_in_files(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, f"{student}/{path.relative_to(folder).as_posix()}")
        for link in links:
            entry = zipfile.ZipInfo(f"{student}/{link.name}")
            entry.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(entry, link.target)
    return buffer.getvalue()


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def say(line: str) -> None:
    """A line for the TA above the progress bar."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def _is_default_checks(options: GradeOptions) -> bool:
    try:
        return options.checks_dir.resolve() == default_checks_dir().resolve()
    except FileNotFoundError:
        return False
