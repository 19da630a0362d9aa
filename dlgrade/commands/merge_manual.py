"""`dlgrade merge-manual OUT manual.csv`: add a TA's points for manual-review parts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlgrade.grading.manual import ManualScoreError, merge_scores, read_manual_csv
from dlgrade.grading.outputs import OutputError
from dlgrade.records import PartStatus


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "merge-manual",
        help="fold a TA's points for manual-review parts into OUT",
        description="CSV columns: student,part,points[,comment]. All rows are checked first; "
        "nothing is written unless every row is valid. Reports and grade files are regenerated.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="output folder of `dlgrade grade`")
    parser.add_argument("csv", type=Path, metavar="CSV", help="manual scores")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        if not args.out.is_dir():
            raise OutputError(f"{args.out} is not an output folder of `dlgrade grade`")
        scores = read_manual_csv(args.csv)
        changed, records = merge_scores(args.out, scores)
    except (ManualScoreError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    pending = sum(r.status == PartStatus.MANUAL for record in records for r in record.results)
    print(
        f"merged {len(scores)} score(s) for {len(changed)} student(s); {pending} part(s) still pending"
    )
    print(f"class report: {args.out / 'index.html'}")
    return 0
