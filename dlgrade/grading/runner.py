"""Grade one submission in its own `pytest checks` process and read back its record.

The checks run student notebooks, which can hang, exhaust memory or kill
their kernel; a separate process (in its own process group, so a timeout
takes its kernels down too) keeps that from ever reaching the batch. Whatever
happens, `GradingJob.finish()` returns a `GradeRecord`: the plugin's, or one
with status "error" that says why (timeout, exit code, the tail of the log).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade.records import GradeRecord, Observation, ObservationKind

LOG_TAIL_LINES = 25
# pytest exit codes that still produce a usable record: all passed / some failed.
RECORD_EXIT_CODES = (0, 1)


class CheckSuiteNotFound(FileNotFoundError):
    """The `checks/` directory could not be located."""


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: passed through to the `pytest checks` command line."""

    checks_dir: Path
    assignment: str | None = None
    quick: bool = False
    visible_only: bool = False
    problems: tuple[str, ...] = ()
    timeout_s: float | None = None  # per submission; None: no limit
    junit: bool = False  # write JUnit XML (to <work dir>/junit.xml unless given a path)
    python: str = sys.executable
    extra_args: tuple[str, ...] = ()
    # Math-library threads per student (None: the libraries' default). With N
    # students at once, cores // N keeps N torch/BLAS pools from fighting over
    # the same cores, which would make parallel grading barely faster.
    threads: int | None = None


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    # Cores this process may use (respects taskset/cgroups), not the machine's total.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_budget(options: GradeOptions, jobs: int) -> GradeOptions:
    """Options with threads = cores // jobs when several students run at once."""
    if options.threads is not None or jobs <= 1:
        return options
    return replace(options, threads=max(1, available_cores() // jobs))


def child_environment(options: GradeOptions) -> dict[str, str]:
    """The grader process's environment, with the thread budget unless the user set one."""
    env = dict(os.environ)
    if options.threads is not None:
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(options.threads))
    return env


def default_checks_dir() -> Path:
    """The harness's own `checks/` package (next to `dlgrade/` in the repository)."""
    candidate = Path(__file__).resolve().parents[2] / "checks"
    if not (candidate / "__init__.py").is_file():
        raise CheckSuiteNotFound(
            f"no checks/ package at {candidate}; pass --checks DIR or install dlgrade from a "
            "repository checkout (pip install -e .)"
        )
    return candidate


def pytest_command(
    options: GradeOptions, submission: Path, results_json: Path, junit: Path | None = None
) -> list[str]:
    """The command line that grades one submission (see docs/DESIGN.md, "Checks")."""
    command = [
        options.python,
        "-m",
        "pytest",
        str(options.checks_dir),
        "--submission",
        str(submission),
        "--results-json",
        str(results_json),
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    if options.assignment:
        command += ["--assignment", options.assignment]
    if options.quick:
        command.append("--quick")
    if options.visible_only:
        command.append("--visible-only")
    if options.problems:
        command += ["--problems", ",".join(options.problems)]
    if junit is not None:
        command += ["--junitxml", str(junit)]
    return command + list(options.extra_args)


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


class GradingJob:
    """One running `pytest checks` process for one submission.

    Output goes to files under `work_dir` (not pipes), so a chatty or stuck
    child can never block on a full pipe while the batch polls others.
    """

    def __init__(
        self,
        student: str,
        submission: Path,
        work_dir: Path,
        options: GradeOptions,
        junit_path: Path | None = None,
    ) -> None:
        self.student = student
        self.options = options
        # Absolute paths: the child runs in the checks' repository, not our cwd.
        work_dir = work_dir.resolve()
        self.work_dir = work_dir
        self.results_json = work_dir / ".record.json"
        self.log_path = work_dir / "grading.log"
        if options.junit:
            self.junit_path: Path | None = (junit_path or work_dir / "junit.xml").resolve()
        else:
            self.junit_path = None
        work_dir.mkdir(parents=True, exist_ok=True)
        self.results_json.unlink(missing_ok=True)
        command = pytest_command(options, submission.resolve(), self.results_json, self.junit_path)
        self.started = time.monotonic()
        with self.log_path.open("wb") as log:
            # A new session makes the child a process-group leader: killing the
            # group on timeout also ends the notebook kernels it started.
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=options.checks_dir.parent,
                env=child_environment(options),
                start_new_session=True,
            )
        self.timed_out = False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def poll(self) -> bool:
        """True once the process has ended (killing it first if over the time limit)."""
        if self.process.poll() is not None:
            return True
        if self.options.timeout_s is not None and self.elapsed > self.options.timeout_s:
            self.timed_out = True
            self.kill()
            return True
        return False

    def kill(self) -> None:
        """End the whole process group and reap the child."""
        # ProcessLookupError: the group is already gone, nothing left to kill.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def finish(self) -> GradeRecord:
        """The record for this submission; call after `poll()` returned True."""
        duration = self.elapsed
        code = self.process.wait()
        if self.timed_out:
            reason = (
                f"grading exceeded the {self.options.timeout_s:g} s limit and was stopped; "
                f"log: {self.log_path}\n{self.log_tail()}"
            )
            return error_record(self.student, reason, duration, self.options.quick)
        if code not in RECORD_EXIT_CODES or not self.results_json.is_file():
            reason = (
                f"pytest exited with code {code} ({_exit_meaning(code)}) "
                f"{'and' if self.results_json.is_file() else 'without'} writing a record; "
                f"log: {self.log_path}\n{self.log_tail()}"
            )
            return error_record(self.student, reason, duration, self.options.quick)
        return self._read_record(duration)

    def _read_record(self, duration: float) -> GradeRecord:
        try:
            record = GradeRecord.from_dict(json.loads(self.results_json.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as err:
            reason = f"the record {self.results_json} is unreadable: {err!r}"
            return error_record(self.student, reason, duration, self.options.quick)
        self.results_json.unlink()
        # The folder name is the student's key everywhere in OUT; the wall time
        # of the whole process (startup included) is the honest grading time.
        return replace(record, student=self.student, duration_s=round(duration, 3))

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        text = self.log_path.read_text("utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-lines:])


def _exit_meaning(code: int) -> str:
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
