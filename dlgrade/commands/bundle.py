"""`dlgrade bundle student --assignment fall2023 --out DIR`: what students install."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bundle",
        help="build what students install (no answers in it)",
        description="Build what students install for self-checks.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    student = targets.add_parser(
        "student",
        help="the grader.check wheel and the CI action that installs it",
        description="Write OUT/dlgrade-VERSION+EDITION-py3-none-any.whl (grader.check in a "
        "notebook, `dlgrade check` on a student's machine) and OUT/action/ (a CI action that "
        "installs that wheel). They hold the visible checks with the reference's results on "
        "the checks' fixed inputs; no reference source, no hidden check, no answer key.",
    )
    student.add_argument(
        "--assignment", required=True, help="assignment edition, e.g. fall2023 or spring2023"
    )
    student.add_argument("--out", type=Path, required=True, help="folder to write into")
    student.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dlgrade.bundle import BundleError, build_student_bundle
    from reference.assignments import ManifestError, load_assignment

    try:
        assignment = load_assignment(args.assignment)
        bundle = build_student_bundle(assignment, args.out)
    except (ManifestError, BundleError) as exc:
        print(f"dlgrade bundle: {exc}", file=sys.stderr)
        return 2
    print(f"wheel: {bundle.wheel}")
    print(f"action: {bundle.action} (publish it as the course's action; see README)")
    return 0
