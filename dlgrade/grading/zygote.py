"""A pre-warmed process that forks one fresh grader per submission.

A fresh `pytest checks` interpreter per student spends seconds importing
torch, pandas, matplotlib, scipy, sympy and Jupyter before any student code
runs. The zygote imports them (and loads the datasets) once; for each
submission it forks a child that calls `dlgrade.grading.unit.grade_submission`
and exits. Isolation is that of a fresh interpreter: each child is a new
process with its own memory (copy-on-write), its own session and process
group (a timeout kills the group, kernels included), and runs one submission
only; student code still runs in its own sandboxed kernel. The zygote never
grades anything itself and stays single-threaded, so forking it is safe.

Protocol, one JSON object per line. The zygote says {"ready": seconds} once
warmed up. The launcher writes requests to the zygote's stdin: {"id",
"student", "submission", "work_dir", "options", "requested_at"}; the zygote
answers on stdout {"id", "pid"} once it has forked and {"id", "exit"} once it
has reaped the child. The child leaves its `UnitResult` in
`work_dir/.unit.json` and its output in `work_dir/grading.log`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

from dlgrade.grading.unit import (
    LOG_NAME,
    LOST_SERVER,
    RESULT_NAME,
    Ending,
    GradeOptions,
    UnitResult,
    ended_result,
    options_from_dict,
    options_to_dict,
    tail,
)

# What a grading run imports that costs time; a module missing here is skipped.
PRELOAD = (
    "numpy",
    "scipy.optimize",
    "sympy",
    "torch",
    "pandas",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.pyplot",
    "jinja2",
    "nbformat",
    "nbclient",
    "jupyter_client",
    "zmq",
    "pytest",
    "_pytest.junitxml",
    "dlgrade.grading.plugin",
    "dlgrade.grading.outputs",
    "dlgrade.engine",
    "dlgrade.data",
    "reference.assignments",
    "reference.fashion_mlp",
    "reference.numpy_backprop",
    "reference.relu_fit",
    "reports.render",
)
# The harness's own check helpers (not test modules or conftests: pytest rewrites
# those on import, so they must be imported by pytest in the child).
HARNESS_CHECK_HELPERS = (
    "checks.answers",
    "checks.notebook_runs",
    "checks.probes",
    "checks.scoring",
    "checks.p4_figures",
    "checks.p5_variants",
)
DATASETS = ("mnist", "fashion-mnist")
# Pure functions whose results their modules cache and every student needs: computed
# once here, inherited by every child (module, function, arguments).
WARM_CALLS = (
    ("dlgrade.engine.sandbox", "bwrap_usable", ()),
    ("dlgrade.engine.sandbox", "gpu_names", ()),
    ("reference.vector_calculus", "grad_norm_squared_np", ([0.0],)),
    ("reference.vector_calculus", "minimiser_np", ([[0.0]],)),
)
EXIT_WAIT_S = 10.0  # how long a killed child may take to be reaped and reported


# --------------------------------------------------------------------- zygote side


def serve(preload: list[str]) -> None:
    """The zygote's main loop (runs in `python -m dlgrade.grading.zygote`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher decides when we stop
    # The protocol gets a descriptor of its own; whatever a library prints while we
    # import it goes to our stderr (the launcher's log), never into the protocol.
    channel = os.dup(1)
    os.dup2(2, 1)
    started = time.monotonic()
    warm_up(preload)
    _send(channel, {"ready": round(time.monotonic() - started, 3)})
    children: dict[int, object] = {}
    buffer = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.1 if children else 1.0)
        if readable:
            data = os.read(0, 1 << 16)
            if not data:
                # The launcher is gone (it closes us by killing us, so this is a crash: a
                # killed `dlgrade grade`, a lost Dask worker). Nobody will collect what the
                # children grade: stop them rather than leave orphans using the machine.
                _kill_children(children)
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    request = json.loads(line)
                    pid = _fork_child(request, channel)
                    children[pid] = request["id"]
                    _send(channel, {"id": request["id"], "pid": pid})
        _reap(children, channel)


def warm_up(preload: list[str]) -> None:
    for name in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from dlgrade.data import DataError, load

    for name in DATASETS:
        with contextlib.suppress(DataError):
            load(name)  # kept in the process, shared copy-on-write by every child
    for module, function, args in WARM_CALLS:
        with contextlib.suppress(Exception):  # a warm-up only: the child computes it otherwise
            getattr(importlib.import_module(module), function)(*args)
    # Everything so far lives as long as the zygote: keep the collector off it, so
    # children neither rescan it (pytest collects at exit) nor copy its pages.
    gc.collect()
    gc.freeze()


def _send(channel: int, message: dict) -> None:
    os.write(channel, (json.dumps(message) + "\n").encode("utf-8"))


def _reap(children: dict[int, object], channel: int) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ident = children.pop(pid, None)
        if ident is not None:
            _send(channel, {"id": ident, "exit": os.waitstatus_to_exitcode(status)})


def _kill_children(children: dict[int, object]) -> None:
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)  # the child leads its own group: kernels go too
        except ProcessLookupError:  # not yet its own group leader, or gone already
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _fork_child(request: dict, channel: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        # First: a session of our own (a timeout kills the group), off the protocol pipes,
        # and Ctrl-C handled as in any fresh Python (the zygote ignores it).
        os.setsid()
        os.close(channel)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        work_dir = Path(request["work_dir"])
        work_dir.mkdir(parents=True, exist_ok=True)
        null = os.open(os.devnull, os.O_RDWR)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND  # shared with the unit's own
        log = os.open(work_dir / LOG_NAME, flags, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        code = _grade_in_child(request, work_dir)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _grade_in_child(request: dict, work_dir: Path) -> int:
    from dlgrade.grading.unit import grade_submission, write_result

    options = options_from_dict(request["options"])
    result = grade_submission(
        Path(request["submission"]),
        options,
        request["student"],
        scratch=work_dir,
        requested_at=request.get("requested_at"),
    )
    write_result(work_dir / RESULT_NAME, result)
    return 0


# --------------------------------------------------------------------- launcher side


class Zygote:
    """A running zygote; `submit` one submission, get a `ForkedJob` back.

    Start one per batch: its environment (the thread budget) is fixed at start.
    """

    def __init__(self, options: GradeOptions) -> None:
        from dlgrade.grading.runner import default_checks_dir, launch_environment

        preload = list(PRELOAD)
        with contextlib.suppress(FileNotFoundError):
            if options.checks_dir.resolve() == default_checks_dir().resolve():
                preload += HARNESS_CHECK_HELPERS
        # Lives as long as the zygote (closed in close()): its start-up errors end up here.
        self._log = tempfile.NamedTemporaryFile(prefix="dlgrade-zygote-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [options.python, "-m", "dlgrade.grading.zygote", *preload],
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


if __name__ == "__main__":
    serve(sys.argv[1:])
