"""The launcher's side of the grading zygote: start it, submit submissions, read their ends.

`Zygote` starts `python -m dlgrade.grading.zygote_server` (the process that
imports the heavy libraries once and forks one child per submission; its
module says how, and the protocol), sends it one request per submission and
hands back a `ForkedJob`, the same interface as `runner.GradingJob`.
`ZygoteKeeper` replaces a zygote that died; the local batch and the Dask
worker share it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from dlgrade.grading.ending import Ending, ended_result
from dlgrade.grading.errors import LOST_SERVER
from dlgrade.grading.log import LOG_NAME, tail
from dlgrade.grading.options import GradeOptions, options_to_dict
from dlgrade.grading.result import RESULT_NAME, UnitResult
from dlgrade.grading.zygote_server import PRELOAD, check_helpers

SERVER_MODULE = "dlgrade.grading.zygote_server"
EXIT_WAIT_S = 10.0  # how long a killed child may take to be reaped and reported


class Zygote:
    """A running zygote; `submit` one submission, get a `ForkedJob` back.

    Start one per batch: its environment (the thread budget) is fixed at start.
    """

    def __init__(self, options: GradeOptions) -> None:
        from dlgrade.grading.runner import default_checks_dir, launch_environment

        preload = list(PRELOAD)
        with contextlib.suppress(FileNotFoundError):
            if options.checks_dir.resolve() == default_checks_dir().resolve():
                preload += check_helpers(options.checks_dir.resolve())
        # Lives as long as the zygote (closed in close()): its start-up errors end up here.
        self._log = tempfile.NamedTemporaryFile(prefix="dlgrade-zygote-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [options.python, "-m", SERVER_MODULE, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=options.checks_dir.parent,
            env=launch_environment(options),
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
        )
        self._buffer = b""
        self._jobs: dict[int, ForkedJob] = {}
        self._next_id = 0
        self.warm_up_s: float | None = None  # set when the zygote reports it is ready
        self.ended = False  # its reports ended: it died (perhaps not yet reapable)

    def wait_ready(self, timeout_s: float = 600.0) -> float:
        """Block until the zygote has warmed up; its warm-up time in seconds."""
        deadline = time.monotonic() + timeout_s
        while self.warm_up_s is None and self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the grading zygote did not warm up in {timeout_s:g} s")
            self.pump(wait_s=0.5)
        if self.warm_up_s is None:
            raise RuntimeError(f"the grading zygote died while warming up: {self.log_tail()}")
        return self.warm_up_s

    def submit(
        self, student: str, submission: Path, work_dir: Path, options: GradeOptions
    ) -> ForkedJob:
        self._next_id += 1
        job = ForkedJob(self, self._next_id, student, work_dir.resolve(), options)
        self._jobs[job.ident] = job
        request = {
            "id": job.ident,
            "student": student,
            "submission": str(submission.resolve()),
            "work_dir": str(job.work_dir),
            "options": options_to_dict(options),
            "requested_at": time.time(),
        }
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            job.lost = True
        return job

    def pump(self, wait_s: float = 0.0) -> None:
        """Read whatever the zygote has reported (waiting up to `wait_s` for something)."""
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + wait_s
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([stdout], [], [], remaining)
            if not readable:
                return
            data = os.read(stdout.fileno(), 1 << 16)
            if not data:  # the zygote died: no more reports will come
                self.ended = True
                for job in self._jobs.values():
                    job.lost = job.lost or job.exit_code is None
                return
            self._buffer += data
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                with contextlib.suppress(ValueError):  # only protocol lines arrive here
                    self._dispatch(json.loads(line))
            wait_s = 0.0
            deadline = time.monotonic()

    def _dispatch(self, message: dict) -> None:
        if "ready" in message:
            self.warm_up_s = float(message["ready"])
        job = self._jobs.get(message.get("id", -1))
        if job is None:
            return
        if "pid" in message:
            job.pid = int(message["pid"])
            job.forked_at = time.monotonic()
            if job.cancelled:
                job.kill()
        if "exit" in message:
            job.exit_code = int(message["exit"])
            self._jobs.pop(job.ident, None)

    def log_tail(self) -> str:
        return tail(Path(self._log.name))

    def forget(self, job: ForkedJob) -> None:
        """`job` has ended and been read: nothing of it is left to stop."""
        self._jobs.pop(job.ident, None)

    def close(self) -> None:
        """Stop the zygote: no new children; kill the ones still running."""
        self.process.kill()
        self.process.wait()
        self.pump()  # pids it reported before dying
        for job in list(self._jobs.values()):
            if job.exit_code is None:
                job.kill()
        self._log.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ForkedJob:
    """One submission graded in a child of the zygote; the same interface as `GradingJob`."""

    def __init__(
        self, zygote: Zygote, ident: int, student: str, work_dir: Path, options: GradeOptions
    ) -> None:
        self.zygote = zygote
        self.ident = ident
        self.student = student
        self.work_dir = work_dir
        self.options = options
        self.pid: int | None = None
        self.forked_at: float | None = None  # the time limit counts from here
        self.exit_code: int | None = None
        self.lost = False  # the zygote died before reporting this child's end
        self.cancelled = False
        self.timed_out = False
        self.started = time.monotonic()
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / RESULT_NAME).unlink(missing_ok=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _done(self) -> bool:
        if self.exit_code is not None:
            return True
        return self.lost and (self.pid is None or not _alive(self.pid))

    def poll(self) -> bool:
        """True once the child has ended (killing it first if over the time limit)."""
        self.zygote.pump()
        if self._done():
            return True
        # The zygote's one-off warm-up is not the student's: the limit starts at the fork.
        running_s = 0.0 if self.forked_at is None else time.monotonic() - self.forked_at
        if self.options.timeout_s is not None and running_s > self.options.timeout_s:
            self.timed_out = True
            self.kill()
            return True
        return False

    def kill(self) -> None:
        """SIGKILL the child's process group and wait for the reap (its kernels end by their
        isolation mode: see dlgrade.grading.runner)."""
        self.cancelled = True
        if self.pid is None:
            self.zygote.pump(wait_s=EXIT_WAIT_S)  # not forked yet: wait for its pid
        if self.pid is not None:
            try:
                os.killpg(self.pid, 9)
            except ProcessLookupError:  # not yet its own group leader, or gone already
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, 9)
        deadline = time.monotonic() + EXIT_WAIT_S
        while not self._done() and not self.lost and time.monotonic() < deadline:
            self.zygote.pump(wait_s=0.1)

    def finish(self) -> UnitResult:
        """The result for this submission; call after `poll()` returned True."""
        ending = Ending(self.elapsed, self.timed_out, self.exit_code)
        # Ended: closing its zygote later must not signal its pid (reused by then, perhaps).
        self.zygote.forget(self)
        if self.exit_code is None:
            said = self.zygote.log_tail()  # empty after a kill -9 or the OOM killer
            lost = f"was {LOST_SERVER} ({said or 'it died without a word'})"
            ending = replace(ending, unknown_exit=lost)
        log = self.work_dir / LOG_NAME
        return ended_result(self.student, self.options, self.work_dir, log, ending)


class ZygoteKeeper:
    """The zygote to submit to, replaced by a fresh one once it has died (out of memory,
    `kill -9`, a failed fork). Shared by the local batch and the Dask worker.

    A dead zygote is retired, not closed: the children it forked run in sessions of
    their own, so they may still finish and leave their results, and its log still
    explains the loss to those that did not. `close` stops them all at the end.
    """

    def __init__(self, options: GradeOptions) -> None:
        self.options = options
        self._zygote: Zygote | None = None
        self._retired: list[Zygote] = []

    def live(self) -> Zygote:
        zygote = self._zygote
        if zygote is not None and (zygote.ended or zygote.process.poll() is not None):
            self._retired.append(zygote)
            self._zygote = None
        if self._zygote is None:
            self._zygote = Zygote(self.options)
        return self._zygote

    def close(self) -> None:
        zygotes = [*self._retired, *([self._zygote] if self._zygote is not None else [])]
        self._zygote, self._retired = None, []
        for zygote in zygotes:
            zygote.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An orphan (its zygote died) that has exited but that nobody reaped yet is done too:
    # the init of a container need not reap it promptly.
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True
