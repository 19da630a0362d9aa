"""`dlgrade verify DIR`: grade a corpus and compare every part with its expected verdict.

For course staff who keep hand-ins with known verdicts (the harness's own
field corpus is one: submissions/field/): it grades DIR like `dlgrade grade`
(resumable in OUT), then lines each row of DIR/EXPECTED.toml up against the
grades. Exit status: 0 when every row agrees, 1 when one does not, 2 when it
could not run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from dlgrade.commands.grade import add_grading_options, student_timeout
from dlgrade.grading.batch import SimilarityOptions, grade_class
from dlgrade.grading.batch_errors import BatchError
from dlgrade.grading.expected import (
    EXPECTED_FILE,
    ExpectedError,
    agreement_lines,
    compare,
    load_expected,
)
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.runner import CheckSuiteNotFound, default_checks_dir
from dlgrade.grading.threads import available_cores


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="grade a corpus with known verdicts and report where the grader disagrees",
        description=__doc__.partition("\n\n")[2].strip(),
    )
    parser.add_argument("root", type=Path, metavar="DIR", help="folder of submission folders")
    parser.add_argument(
        "--expected",
        type=Path,
        default=None,
        help=f"expected verdicts (default: DIR/{EXPECTED_FILE})",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: a temp dir)"
    )
    parser.add_argument("--jobs", type=int, default=available_cores(), help="submissions at once")
    parser.add_argument("--force", action="store_true", help="regrade folders already in OUT")
    add_grading_options(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reference.assignments import load_assignment

    expected = args.expected or args.root / EXPECTED_FILE
    known = {a: [p.id for p in load_assignment(a).parts] for a in ("fall2023", "spring2023")}
    out = args.out or Path(tempfile.mkdtemp(prefix="dlgrade-verify-"))
    try:
        rows = load_expected(expected, known)
        options = GradeOptions(
            checks_dir=default_checks_dir(),
            assignment=args.assignment,
            quick=args.quick,
            retrain=args.retrain,
            problems=args.problems,
            timeout_s=student_timeout(None, args.quick),
        )
        outcome = grade_class(
            args.root,
            out,
            options,
            jobs=args.jobs,
            force=args.force,
            similarity=SimilarityOptions(enabled=False),
            progress=not args.no_progress,
        )
    except (ExpectedError, BatchError, CheckSuiteNotFound) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    records = {r.student: r for r in outcome.records}
    outcomes = compare(rows, records, args.quick)
    mode = "quick" if args.quick else "full"
    print(
        f"{mode} mode, {len(records)} submissions graded in {outcome.wall_s:.0f} s; grades in {out}"
    )
    print("\n".join(agreement_lines(outcomes)))
    return 0 if all(o.ok for o in outcomes) else 1
