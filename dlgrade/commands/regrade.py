"""`dlgrade regrade OUT`: re-judge a graded class from its kept evidence (dlgrade.evidence)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlgrade.evidence.regrade import RegradeError, Settings, regrade, table
from dlgrade.grading.outputs import OutputError
from dlgrade.grading.threads import available_cores
from dlgrade.text import readable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "regrade",
        help="re-judge graded students from their kept evidence (after a rubric change)",
        description="Grade every student in OUT again, as they were graded, judging each "
        "notebook from the evidence its first run kept when nothing that produced it changed "
        "(the notebook, the probes, the data slice, the engine); the others are executed "
        "again and the command says why. The replaced record is kept as grade.previous.json; "
        "the parts whose points changed are printed.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="the output folder of dlgrade grade")
    parser.add_argument("--only", metavar="NAME", help="regrade only this student")
    parser.add_argument(
        "--parts",
        type=lambda text: tuple(p.strip() for p in text.split(",") if p.strip()),
        default=(),
        metavar="LIST",
        help="re-judge only these parts, e.g. 5-q4 or 4-acc,5-q4 (the others keep their verdict)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="grade against this manifest file (a copy with changed points or settings); "
        "default: the one each student was last graded against",
    )
    parser.add_argument(
        "--checks", type=Path, default=None, help="checks folder (default: as graded)"
    )
    parser.add_argument(
        "--rerun", action="store_true", help="execute every notebook again, evidence or not"
    )
    parser.add_argument(
        "--jobs", type=int, default=available_cores(), help="students at once (%(default)s)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.manifest is not None and not args.manifest.is_file():
        print(f"error: --manifest {args.manifest}: no such file", file=sys.stderr)
        return 2
    settings = Settings(
        checks_dir=args.checks.resolve() if args.checks else None,
        manifest=args.manifest.resolve() if args.manifest else None,
        parts=args.parts,
        rerun=args.rerun,
        jobs=args.jobs,
        progress=not args.no_progress,
    )
    try:
        outcome = regrade(args.out, settings, args.only)
    except (RegradeError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(readable(line) for line in table(outcome)))
    return 0
