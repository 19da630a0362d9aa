"""`dlgrade check PATH`: a student's self-check with the visible checks only.

Prints a table, writes an HTML report (PATH/.dlgrade/report.html unless
--report), and exits 1 when an auto-graded check lost points, 2 when the
checks could not run or PATH holds nothing to check, so CI jobs fail on any.
With --fail-under PCT it exits 1 only when the judged parts score below PCT %.
--summary appends the points table as Markdown (a GitHub Actions job summary).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dlgrade.commands.grade import add_grading_options
from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.engine.discover import ANSWERS_FILE, discover
from dlgrade.engine.errors import SandboxUnavailable
from dlgrade.grading.lockdown import LockdownError, prepare
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import write_text
from dlgrade.grading.result import JUNIT_NAME
from dlgrade.grading.runner import CheckSuiteNotFound, default_checks_dir
from dlgrade.grading.terminal import check_summary, failing_parts
from dlgrade.grading.zygote import Zygote
from dlgrade.records import GradeRecord
from reports.markdown import job_summary
from reports.render import render_student
from reports.summaries import judged_percent

POLL_S = 0.5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="self-check a submission with the visible checks",
        description="Run the visible checks on one submission folder, print a table and write "
        "an HTML report. Exit status: 0 all pass, 1 points lost (with --fail-under: the score is "
        "below it), 2 the checks could not run (or PATH has no notebook and no answers.toml).",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="your submission folder")
    add_grading_options(parser)
    parser.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="HTML report (default: PATH/.dlgrade/report.html)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0,
        metavar="S",
        help="stop after S seconds (default: no limit)",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help='append the points table as Markdown, e.g. --summary "$GITHUB_STEP_SUMMARY"',
    )
    parser.add_argument(
        "--fail-under",
        type=percentage,
        metavar="PCT",
        help="exit 1 only when the judged auto-graded parts score below PCT %% (parts awaiting "
        "a TA, skipped or broken by the harness are left out); 0 never fails on points",
    )
    parser.add_argument(
        "--checks", type=Path, default=None, help="checks folder (default: the harness's own)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.path.is_dir():
        print(f"error: {args.path} is not a folder; pass your submission folder", file=sys.stderr)
        return 2
    if nothing_to_check(args.path):
        print(
            f"error: nothing to check in {args.path}: expected notebooks or {ANSWERS_FILE}",
            file=sys.stderr,
        )
        return 2
    try:
        checks = args.checks.resolve() if args.checks else default_checks_dir()
    except CheckSuiteNotFound as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        secured = prepare(args.isolation, [args.path], [], checks)
    except (SandboxUnavailable, LockdownError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if secured is not None:
        print(secured.summary(), file=sys.stderr)
    options = GradeOptions(
        checks_dir=checks,
        assignment=args.assignment,
        quick=args.quick,
        retrain=args.retrain,
        visible_only=True,
        problems=args.problems,
        timeout_s=args.timeout or None,
        junit=args.junit is not None,
        isolation=args.isolation,
    )
    work_dir = args.path / ".dlgrade"
    record = self_check(args.path, work_dir, options, args.junit)
    report = args.report or work_dir / "report.html"
    write_text(report, render_student(record, back_link=None))
    print(check_summary(record))
    print(f"report: {report}")
    if args.junit:
        print(f"junit: {args.junit}")
    if args.summary:
        append_summary(args.summary, job_summary(record, args.fail_under))
        print(f"summary: {args.summary}")
    return exit_status(record, args.fail_under)


def exit_status(record: GradeRecord, fail_under: float | None = None) -> int:
    """0 pass, 1 points lost (or below `fail_under` %), 2 the checks could not run."""
    if record.status == "error":
        return 2
    if fail_under is None:
        return 1 if failing_parts(record) else 0
    percent = judged_percent(record)
    return 1 if percent is not None and percent < fail_under else 0


def percentage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, got {text!r}")
    return value


def append_summary(path: Path, text: str) -> None:
    """Append: a job summary file collects every step's Markdown."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def nothing_to_check(path: Path) -> bool:
    """No notebook (or `.py` source) and no answers file: a wrong folder, not a zero score."""
    submission = discover(path)
    return not submission.sources and submission.answers is None


def self_check(
    path: Path, work_dir: Path, options: GradeOptions, junit: Path | None = None
) -> GradeRecord:
    """Run the checks on one folder, telling the student it is still working."""
    student = path.resolve().name
    print(f"checking {path} (this runs your notebooks; it can take minutes) ...", flush=True)
    with Zygote(options) as zygote:  # the same launcher as `dlgrade grade`, for one student
        job = zygote.submit(student, path, work_dir, options)
        while not job.poll():
            time.sleep(POLL_S)
        result = job.finish()
    if junit is not None and JUNIT_NAME in result.files:
        write_bytes_atomic(junit, result.files[JUNIT_NAME], fsync=False)
    record = result.record
    print(f"done in {record.duration_s:.1f} s", flush=True)
    return record
