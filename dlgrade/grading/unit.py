"""The unit of grading work: one submission in, its grade record and files out.

    grade_submission(submission, options, student=None) -> UnitResult

* `submission`: a submission folder, or the bytes of a zip archive of one
  (what a distributed runner ships to a worker).
* `options`: a `GradeOptions` (assignment, quick, problems, visible-only,
  thread budget, ...), frozen and JSON-serialisable (`grading.options`).
* The result: the `GradeRecord` and that student's output files as
  `{relative name: bytes}` (grade.json, results.json, report.html,
  grading.log, junit.xml when asked). `UnitResult.to_dict()` is plain JSON
  (`grading.result`).

Every runner calls this one function: the local batch runs it in a process
forked per student from a pre-warmed zygote (`dlgrade.grading.zygote`), the
fresh-interpreter launcher in `python -m dlgrade.grading.unit`, and a
distributed runner may do either on its workers. There is no second grading
path.

It runs the checks (pytest with the grading plugin) in the calling process
and redirects that process's stdout/stderr to the log while it runs, so call
it **once per process**, in a fresh one: pytest and the checks keep state in
the process (imported check modules, caches), and one student's grading must
never see another's. A forked child of a process that has only *imported*
modules is fresh in that sense. Time limits belong to the caller, which can
kill the whole process group; this function cannot stop itself.

Its helpers, one job each: `archive` (zip submissions), `log` (output
redirection), `threads` (thread budget), `pytest_args`, `errors` (error
records, exit codes), and `ending` (what a launcher reads when the process
ends). `main` here is `python -m dlgrade.grading.unit`, the fresh-interpreter
launcher's command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from dlgrade import progress
from dlgrade.engine.reaper import LEDGER_ENV, LEDGER_NAME
from dlgrade.grading.archive import unpack_archive
from dlgrade.grading.errors import error_record, exit_meaning
from dlgrade.grading.log import LOG_NAME, redirected_output, tail
from dlgrade.grading.options import GradeOptions, options_from_dict, options_to_dict
from dlgrade.grading.pytest_args import pytest_args
from dlgrade.grading.result import (
    JUNIT_NAME,
    RESULT_NAME,
    UnitResult,
    collect_files,
    write_result,
)
from dlgrade.grading.threads import apply_thread_budget
from dlgrade.records import GradeRecord, Observation

# pytest exit codes that still produce a usable record: all passed / some failed.
RECORD_EXIT_CODES = (0, 1)


def grade_submission(
    submission: Path | bytes,
    options: GradeOptions,
    student: str | None = None,
    scratch: Path | None = None,
    requested_at: float | None = None,
) -> UnitResult:
    """Grade one submission in this process (once per process: see the module docstring).

    `student` names the record (default: the folder's name; "submission" for
    an archive). `scratch` keeps the log, JUnit XML and pytest's JSON there
    (default: a temporary folder, removed afterwards). `requested_at` is the
    `time.time()` when the work was asked for: the record's duration counts
    from then, so waiting for and starting the process are grading time too.
    """
    started = time.time() if requested_at is None else requested_at
    with contextlib.ExitStack() as stack:
        if scratch is None:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dlgrade-unit-")))
        scratch = Path(scratch).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
        # For a launcher that may stop us at the time limit: how far we got.
        stack.enter_context(progress.recording(scratch))
        if isinstance(submission, bytes | bytearray):
            student = student or "submission"
            unpacked = scratch / ".submission"
            stack.callback(shutil.rmtree, unpacked, ignore_errors=True)
            folder = unpack_archive(bytes(submission), unpacked / student)
        else:
            folder = Path(submission).resolve()
            student = student or folder.name
        apply_thread_budget(options)
        if options.isolation == "user":
            from dlgrade.grading.preload import preload_grader

            preload_grader()  # before any notebook runs: nothing is read from disk after
        # This process grades one submission: its kernels' uids go to its launcher's ledger.
        os.environ[LEDGER_ENV] = str(scratch / LEDGER_NAME)
        if options.evidence != "off":
            from dlgrade.evidence.store import start_evidence

            # An unpacked archive is gone after grading: nothing to re-judge it against.
            kept = None if isinstance(submission, bytes | bytearray) else folder
            start_evidence(scratch, kept, options_to_dict(options))
        code = _run_pytest(options, folder, scratch)
        record = _record(student, code, scratch, options, time.time() - started)
        if options.regrade is not None:
            from dlgrade.evidence.settle import settled_in

            record = settled_in(scratch, record, options.regrade)
        return UnitResult(record, collect_files(record, scratch, options.junit))


def _run_pytest(options: GradeOptions, folder: Path, scratch: Path) -> int | str:
    """pytest's exit code, or the traceback of what broke it, with all output in the log."""
    import pytest  # imported here: the zygote preloads it, and importing this module stays cheap

    (scratch / RESULT_NAME).unlink(missing_ok=True)
    junit = scratch / JUNIT_NAME if options.junit else None
    args = pytest_args(options, folder, scratch / ".record.json", junit)
    # Third-party plugins that happen to be installed (hypothesis imports itself for
    # seconds at the end of every run) have no part in grading; `-p NAME` in
    # extra_args still loads one explicitly.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    previous = Path.cwd()
    with redirected_output(scratch / LOG_NAME):
        try:
            # The checks' repository root holds the conftest that loads the grading plugin.
            os.chdir(options.checks_dir.parent)
            return int(pytest.main(args))
        except BaseException as err:  # SystemExit, a plugin bug: the record says what happened
            import traceback

            traceback.print_exc()
            return f"{type(err).__name__}: {err}"
        finally:
            os.chdir(previous)


def _record(
    student: str, code: int | str, scratch: Path, options: GradeOptions, duration: float
) -> GradeRecord:
    results_json = scratch / ".record.json"
    log_tail = tail(scratch / LOG_NAME)
    if code not in RECORD_EXIT_CODES or not results_json.is_file():
        written = "and" if results_json.is_file() else "without"
        meaning = code if isinstance(code, str) else f"code {code} ({exit_meaning(code)})"
        reason = f"pytest exited with {meaning} {written} writing a record\n{log_tail}"
        return error_record(student, reason, duration, options.quick)
    try:
        record = GradeRecord.from_dict(json.loads(results_json.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        reason = f"the record {results_json.name} is unreadable: {err!r}"
        return error_record(student, reason, duration, options.quick)
    finally:
        results_json.unlink(missing_ok=True)
    # The folder name is the student's key everywhere in OUT.
    devices = Observation("harness", "devices", devices_note(options))
    return replace(
        record,
        student=student,
        duration_s=round(duration, 3),
        observations=[*record.observations, devices],
        evidence=evidence_digests(scratch, options),
    )


def evidence_digests(scratch: Path, options: GradeOptions) -> dict[str, str]:
    """Notebook -> sha256 of the evidence it was judged from (dlgrade.evidence.store)."""
    if options.evidence == "off":
        return {}
    from dlgrade.evidence.store import EVIDENCE_DIR, read_uses

    return {use.source: use.digest for use in read_uses(scratch / EVIDENCE_DIR) if use.digest}


def devices_note(options: GradeOptions) -> str:
    """Which device ran what (the kernel adds cuda-used / cuda-on-cpu for the student's code)."""
    from dlgrade.engine import SandboxConfig
    from dlgrade.engine.sandbox import device_summary

    return device_summary(SandboxConfig(quick=options.quick))


def main(argv: list[str] | None = None) -> int:
    """`python -m dlgrade.grading.unit`: grade one submission in this fresh interpreter."""
    parser = argparse.ArgumentParser(prog="python -m dlgrade.grading.unit")
    parser.add_argument("submission", type=Path, help="a submission folder, or a .zip of one")
    parser.add_argument("--student", required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--options", required=True, help="GradeOptions as JSON")
    parser.add_argument(
        "--requested-at", type=float, default=None, help="time.time() of the request"
    )
    args = parser.parse_args(argv)
    options = options_from_dict(json.loads(args.options))
    submission: Path | bytes = args.submission
    if args.submission.is_file() and args.submission.suffix == ".zip":
        submission = args.submission.read_bytes()
    result = grade_submission(
        submission,
        options,
        args.student,
        scratch=args.work_dir,
        requested_at=args.requested_at,
    )
    write_result(args.work_dir / RESULT_NAME, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
