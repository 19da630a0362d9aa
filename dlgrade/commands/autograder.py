"""`dlgrade autograder gradescope --out autograder.zip`: a Gradescope autograder for an edition.

`dlgrade autograder run-gradescope` is what the zip's run_autograder calls
inside Gradescope's container; it is not meant to be typed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlgrade.autograder.build import build_gradescope_zip
from dlgrade.autograder.config import (
    CONFIG_FILE,
    DEFAULT_TIMEOUT_S,
    GRADESCOPE_MAX_S,
    AutograderConfig,
    AutograderError,
)
from dlgrade.autograder.run import ResultsNotWritten, run_gradescope
from dlgrade.commands.grade import problem_list
from dlgrade.engine import isolation
from dlgrade.engine.errors import SandboxUnavailable
from dlgrade.engine.isolation import MODES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "autograder",
        help="build a Gradescope autograder zip",
        description="Build an autograder for an LMS's own grading service.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    build = targets.add_parser(
        "gradescope",
        help="zip with setup.sh and run_autograder for a Gradescope programming assignment",
        description="Write a zip to upload on Gradescope's Configure Autograder page. setup.sh "
        "installs bubblewrap, Python, dlgrade with its pinned dependencies and the datasets; "
        "run_autograder grades /autograder/submission into /autograder/results/results.json.",
    )
    build.add_argument(
        "--assignment", choices=("fall2023", "spring2023"), required=True, help="edition graded"
    )
    build.add_argument(
        "--problems",
        type=problem_list,
        default=(),
        metavar="LIST",
        help="grade only these problems, e.g. p4,p5 (default: all)",
    )
    build.add_argument(
        "--quick",
        action="store_true",
        help="train on small data slices (for trying the autograder out; grades are indicative)",
    )
    build.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help="stop grading one submission after S seconds, keeping the parts judged so far "
        "(default: %(default)g); must stay under Gradescope's own limit (set it in Gradescope's "
        f"autograder settings; its maximum is {GRADESCOPE_MAX_S:g} s), which ends a run with "
        "no results at all",
    )
    build.add_argument(
        "--isolation",
        choices=MODES,
        default="user",
        help="how notebooks are isolated in Gradescope's container (default: user, since "
        "Gradescope refuses bubblewrap's namespaces; README: 'How grading stays honest')",
    )
    build.add_argument("--out", type=Path, required=True, metavar="ZIP", help="the zip to write")
    build.set_defaults(func=run_build)
    inside = targets.add_parser(
        "run-gradescope",
        help="grade inside Gradescope's container (called by run_autograder)",
    )
    inside.add_argument(
        "--root",
        type=Path,
        default=Path("/autograder"),
        help="Gradescope's autograder folder (default: %(default)s)",
    )
    inside.set_defaults(func=run_inside)
    check = targets.add_parser(
        "check-isolation",
        help="say whether autograder.toml's isolation mode works here (called by setup.sh)",
    )
    check.add_argument(
        "--root", type=Path, default=Path("/autograder"), help="default: %(default)s"
    )
    check.set_defaults(func=run_check_isolation)


def run_build(args: argparse.Namespace) -> int:
    config = AutograderConfig(
        assignment=args.assignment,
        problems=args.problems,
        quick=args.quick,
        timeout_s=args.timeout,
        isolation=args.isolation,
    )
    try:
        if not 0 < args.timeout < GRADESCOPE_MAX_S:
            raise AutograderError(
                f"--timeout {args.timeout:g}: must be above 0 and under Gradescope's maximum of "
                f"{GRADESCOPE_MAX_S:g} s, with a margin for writing the results"
            )
        names = build_gradescope_zip(args.out, config)
    except AutograderError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    harness = sum(name.startswith("harness/") for name in names)
    print(
        f"wrote {args.out}: setup.sh, run_autograder, autograder.toml and {harness} harness files"
    )
    print("upload it on Gradescope: assignment > Configure Autograder > Zip file upload")
    return 0


def run_check_isolation(args: argparse.Namespace) -> int:
    try:
        config = AutograderConfig.load(args.root / "source" / CONFIG_FILE)
        isolation.require(config.isolation)
    except (AutograderError, SandboxUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"isolation {config.isolation} works here: {isolation.DESCRIPTIONS[config.isolation]}")
    return 0


def run_inside(args: argparse.Namespace) -> int:
    try:
        return run_gradescope(args.root).exit_code
    except (AutograderError, ResultsNotWritten) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
