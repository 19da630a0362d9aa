"""The unit of grading work: one submission in, its grade record and files out.

    grade_submission(submission, options, student=None) -> UnitResult

* `submission`: a submission folder, or the bytes of a zip archive of one
  (what a distributed runner ships to a worker).
* `options`: a `GradeOptions` (assignment, quick, problems, visible-only,
  thread budget, ...), frozen and JSON-serialisable (`options_to_dict`).
* The result: the `GradeRecord` and that student's output files as
  `{relative name: bytes}` (grade.json, results.json, report.html,
  grading.log, junit.xml when asked). `UnitResult.to_dict()` is plain JSON.

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
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path, PurePosixPath

from dlgrade import progress
from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.engine.paths import hand_in_files, refused_link
from dlgrade.engine.reaper import LEDGER_ENV, LEDGER_NAME, reap_ledger
from dlgrade.records import CheckResult, GradeRecord, Observation, ObservationKind, PartStatus

LOG_NAME = "grading.log"
JUNIT_NAME = "junit.xml"
RESULT_NAME = ".unit.json"  # where a child process leaves its UnitResult for the launcher
# How an error record says the harness lost the student (dlgrade.grading.zygote; the Dask
# worker's lost_workers_result): the student's code is not to blame, so resume retries it.
LOST_SERVER = "lost with the grading server"
LOST = (LOST_SERVER, "Dask workers grading this student were lost")
KERNEL_NOT_STARTED = "KernelStartError"  # named in the part's harness-error message
LOG_TAIL_LINES = 25
# pytest exit codes that still produce a usable record: all passed / some failed.
RECORD_EXIT_CODES = (0, 1)
MAX_ARCHIVE_BYTES = 512 << 20  # unpacked size of a submission shipped as a zip
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class GradeOptions:
    """How to grade one submission: the `pytest checks` command line, and its process."""

    checks_dir: Path
    assignment: str | None = None
    quick: bool = False
    retrain: bool = False  # problem 5: train again even when the notebook trained
    visible_only: bool = False
    problems: tuple[str, ...] = ()
    timeout_s: float | None = None  # per submission; None: no limit
    junit: bool = False  # also return junit.xml
    python: str = sys.executable
    extra_args: tuple[str, ...] = ()
    # Math-library threads per student (None: the libraries' default). With N
    # students at once, cores // N keeps N torch/BLAS pools from fighting over
    # the same cores, which would make parallel grading barely faster.
    threads: int | None = None
    # How the notebooks are isolated (dlgrade.engine.isolation): never chosen for you.
    isolation: str = "bwrap"
    # The runs' evidence in SCRATCH/evidence (dlgrade.evidence): "keep" stores it, "reuse"
    # also judges from it when nothing that made it changed, "off" neither.
    evidence: str = "keep"
    manifest: str | None = None  # a manifest file to grade against (default: the edition's)
    # A regrade (dlgrade.evidence.regrade): the parts it re-judges (empty: all). The record
    # is settled against the one it replaces before the student's page is rendered.
    regrade: tuple[str, ...] | None = None


def options_to_dict(options: GradeOptions) -> dict:
    data = asdict(options)
    data["checks_dir"] = str(options.checks_dir)
    data["problems"], data["extra_args"] = list(options.problems), list(options.extra_args)
    data["regrade"] = None if options.regrade is None else list(options.regrade)
    return data


def options_from_dict(data: dict) -> GradeOptions:
    known = {f.name for f in fields(GradeOptions)}
    values = {key: value for key, value in data.items() if key in known}
    values["checks_dir"] = Path(values["checks_dir"])
    values["problems"] = tuple(values.get("problems", ()))
    values["extra_args"] = tuple(values.get("extra_args", ()))
    if values.get("regrade") is not None:
        values["regrade"] = tuple(values["regrade"])
    return GradeOptions(**values)


@dataclass(frozen=True)
class UnitResult:
    """One graded submission: its record and the files of OUT/<student>/."""

    record: GradeRecord
    files: dict[str, bytes] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "record": self.record.to_dict(),
            "files": {
                name: base64.b64encode(data).decode("ascii") for name, data in self.files.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> UnitResult:
        files = {name: base64.b64decode(text) for name, text in data.get("files", {}).items()}
        return cls(GradeRecord.from_dict(data["record"]), files)


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


def collect_files(record: GradeRecord, scratch: Path | None, junit: bool) -> dict[str, bytes]:
    """The student's output files: the rendered record, then the log and JUnit XML if present."""
    from dlgrade.grading.student_files import student_files

    files = student_files(record)
    names = [LOG_NAME, JUNIT_NAME] if junit else [LOG_NAME]
    for name in names:
        path = scratch / name if scratch is not None else None
        if path is not None and path.is_file():
            files[name] = path.read_bytes()
    return files


def unpack_archive(data: bytes, target: Path) -> Path:
    """Extract a zip of one submission into `target` (names cannot escape it: see zipfile)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = sum(info.file_size for info in archive.infolist())
        if size > MAX_ARCHIVE_BYTES:
            raise ValueError(
                f"submission archive unpacks to {size} bytes (cap {MAX_ARCHIVE_BYTES})"
            )
        members = archive.infolist()
        archive.extractall(target, [m for m in members if not _is_link(m)])
        for member in filter(_is_link, members):
            _unpack_link(target, member.filename, archive.read(member).decode("utf-8", "replace"))
    entries = [p for p in target.iterdir() if not p.name.startswith(".")]
    # A zip of the folder itself (one top-level folder) is the same submission as its contents.
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return target


def pack_folder(folder: Path, top: str = "") -> bytes:
    """A zip of `folder`'s contents (under the directory `top`, if given): the `bytes` form
    of a submission. A link goes in as a link entry (its target's text, never the file it
    leads to), so the grader that unpacks it names the link as local grading does."""
    folder = Path(folder)
    prefix = f"{top}/" if top else ""
    files, links = hand_in_files(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, prefix + path.relative_to(folder).as_posix())
        for link in links:
            entry = zipfile.ZipInfo(prefix + link.name)
            entry.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(entry, link.target)
    return buffer.getvalue()


def _is_link(member: zipfile.ZipInfo) -> bool:
    return member.create_system == 3 and stat.S_ISLNK(member.external_attr >> 16)


def _unpack_link(target: Path, name: str, points_to: str) -> None:
    """Make the link entry `name` a link again below `target`, so discovery refuses and names
    it (engine/paths.py: never followed); an entry that would leave `target`, or go through
    a link, is dropped as zipfile drops such names."""
    parts = PurePosixPath(name).parts
    if not parts or not points_to or name.startswith("/") or ".." in parts:
        return
    path = target.joinpath(*parts)
    if path.exists() or path.is_symlink() or refused_link(target, path.parent) is not None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(points_to)


@contextlib.contextmanager
def redirected_output(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors too: kernels write there) to `log`."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def apply_thread_budget(options: GradeOptions) -> None:
    """Hold this process (and the kernels it starts) to `options.threads` math threads."""
    if options.threads is None:
        return
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(options.threads))
    torch = sys.modules.get("torch")
    if torch is not None:  # already imported (a zygote): its pool size is read at first use
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def pytest_args(
    options: GradeOptions, submission: Path, results_json: Path, junit: Path | None = None
) -> list[str]:
    """The `pytest` arguments that grade one submission (see docs/DESIGN.md, "Checks")."""
    args = [
        str(options.checks_dir),
        "--submission",
        str(submission),
        "--results-json",
        str(results_json),
        "-p",
        "no:cacheprovider",
        "-q",
        # The checks' messages come from the exceptions themselves (plugin.py); formatting
        # each failure's traceback with its source costs a regrade ~0.3 s a student.
        "--tb=line",
    ]
    if options.assignment:
        args += ["--assignment", options.assignment]
    if options.quick:
        args.append("--quick")
    if options.retrain:
        args.append("--retrain")
    if options.visible_only:
        args.append("--visible-only")
    if options.problems:
        args += ["--problems", ",".join(options.problems)]
    args += ["--isolation", options.isolation]
    if options.evidence != "off" or options.manifest:
        args += ["-p", "dlgrade.evidence.plugin"]
    if options.evidence != "off":
        evidence = results_json.parent / "evidence"
        args += ["--evidence-dir", str(evidence), "--evidence", options.evidence]
    if options.manifest:
        args += ["--manifest", str(options.manifest)]
    if junit is not None:
        args += ["--junitxml", str(junit)]
    return args + list(options.extra_args)


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


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.is_file():
        return ""
    text = path.read_text("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


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


def write_result(path: Path, result: UnitResult) -> None:
    write_bytes_atomic(path, json.dumps(result.to_dict()).encode("utf-8"), fsync=False)


def read_result(path: Path) -> UnitResult:
    return UnitResult.from_dict(json.loads(path.read_text("utf-8")))


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
