"""Launchers: where `dlgrade.grading.unit.grade_submission` runs, one process per student.

Student notebooks can hang, exhaust memory or kill their kernel; running each
submission's grading in a process of its own (in its own process group) keeps
that from ever reaching the batch. Its kernels run in sessions of their own, so
killing the group does not reach them: under bubblewrap they die with their
parent (--die-with-parent), in user mode every process of their uids is killed
from the ledger before the result is read (ending.ended_result), and in mode none
the kernel's own parent check ends it while what the notebook started may live on.

* `dlgrade.grading.zygote.ForkedJob`: a child forked from a pre-warmed zygote
  (the default: no per-student start-up cost);
* `GradingJob` here: a fresh `python -m dlgrade.grading.unit` interpreter per
  student (what every student cost before the zygote; kept for comparison and
  as the fallback where fork is unavailable).

Both expose `poll()`, `kill()`, `elapsed`, `student` and `finish() -> UnitResult`;
whatever happens, `finish()` returns a record: the checks', or one with
status "error" that says why (timeout, exit code, the tail of the log).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from dlgrade.grading.ending import Ending, ended_result
from dlgrade.grading.log import LOG_NAME
from dlgrade.grading.options import GradeOptions, options_to_dict
from dlgrade.grading.pytest_args import pytest_args
from dlgrade.grading.result import RESULT_NAME, UnitResult
from dlgrade.grading.threads import THREAD_VARIABLES

__all__ = [
    "CheckSuiteNotFound",
    "GradingJob",
    "child_environment",
    "default_checks_dir",
    "launch_environment",
    "pytest_command",
]


class CheckSuiteNotFound(FileNotFoundError):
    """The `checks/` directory could not be located."""


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
    """The command line that grades one submission with plain pytest (see docs/DESIGN.md)."""
    return [options.python, "-m", "pytest", *pytest_args(options, submission, results_json, junit)]


def unit_command(
    options: GradeOptions, student: str, submission: Path, work_dir: Path
) -> list[str]:
    """A fresh interpreter running `grade_submission` on one submission."""
    return [
        options.python,
        "-m",
        "dlgrade.grading.unit",
        str(submission),
        "--student",
        student,
        "--work-dir",
        str(work_dir),
        "--options",
        json.dumps(options_to_dict(options)),
        "--requested-at",
        repr(time.time()),
    ]


class GradingJob:
    """One submission graded in a fresh `python -m dlgrade.grading.unit` process.

    Output goes to a file in `work_dir` (not pipes), so a chatty or stuck
    child can never block on a full pipe while the batch polls others.
    """

    def __init__(
        self, student: str, submission: Path, work_dir: Path, options: GradeOptions
    ) -> None:
        self.student = student
        self.options = options
        # Absolute paths: the child runs in the checks' repository, not our cwd.
        self.work_dir = work_dir.resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / RESULT_NAME).unlink(missing_ok=True)
        self.log_path = self.work_dir / LOG_NAME
        command = unit_command(options, student, submission.resolve(), self.work_dir)
        self.started = time.monotonic()
        self.log_path.write_bytes(b"")
        # Appending: the unit redirects its own output to the same file.
        with self.log_path.open("ab") as log:
            # A new session makes the child a process-group leader: killing the
            # group on timeout also ends the notebook kernels it started.
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=options.checks_dir.parent,
                env=launch_environment(options),
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

    def finish(self) -> UnitResult:
        """The result for this submission; call after `poll()` returned True."""
        duration = self.elapsed
        ending = Ending(duration, self.timed_out, self.process.wait())
        return ended_result(self.student, self.options, self.work_dir, self.log_path, ending)


def launch_environment(options: GradeOptions) -> dict[str, str]:
    """A grading process's environment: ours, the thread budget, and this `dlgrade` importable
    (the child must run the same harness as the launcher, installed or a checkout)."""
    env = child_environment(options)
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}
