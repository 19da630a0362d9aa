"""`dlgrade export canvas|gradescope-manual OUT`: score files an LMS imports, from OUT's records."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from dlgrade.grading.outputs import OutputError, load_records, write_text
from dlgrade.lms.canvas import CanvasExportError, check_column, gradebook_csv
from dlgrade.lms.gradescope import MANUAL_SCORE_COLUMNS, manual_scores_rows


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the scores in OUT as a CSV an LMS imports (Canvas, Gradescope)",
        description="Totals per student from the grade records in OUT (written by dlgrade grade). "
        "Parts awaiting TA review count 0 (merge them first with dlgrade merge-manual); "
        "students whose grading failed are left out. Every such case is listed on stderr.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    canvas = targets.add_parser(
        "canvas",
        help="gradebook CSV for Canvas (Grades > Import)",
        description="Columns Student, ID, SIS User ID, SIS Login ID, Section and the assignment "
        "column. Canvas matches rows by ID, then SIS User ID, then SIS Login ID, then name.",
    )
    _common(canvas, "canvas-import.csv")
    canvas.add_argument(
        "--assignment-column",
        required=True,
        type=_column,
        metavar="NAME",
        help='the assignment\'s column as Canvas names it, e.g. "HW1 (123)"',
    )
    canvas.add_argument(
        "--gradebook",
        type=Path,
        metavar="CSV",
        help="Canvas's own gradebook export: rows are matched to it and take its identity columns",
    )
    canvas.set_defaults(func=run_canvas)
    manual = targets.add_parser(
        "gradescope-manual",
        help="CSV for Gradescope's score upload (columns Name, Email, SID, Total Score)",
        description="One row per student (each member of a group), matched by Gradescope on "
        "Email or SID when you upload it.",
    )
    _common(manual, "gradescope-scores.csv")
    manual.set_defaults(func=run_gradescope_manual)


def _common(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument("out", type=Path, metavar="OUT", help="output folder of dlgrade grade")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help=f"CSV to write (default: OUT/{default_name})",
    )
    parser.set_defaults(default_name=default_name)


def _column(text: str) -> str:
    try:
        return check_column(text)
    except CanvasExportError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def run_canvas(args: argparse.Namespace) -> int:
    def build(records):
        table = gradebook_csv(records, args.assignment_column, args.gradebook)
        return list(table.columns), table.rows, table.warnings

    return _export(args, build)


def run_gradescope_manual(args: argparse.Namespace) -> int:
    def build(records):
        rows, warnings = manual_scores_rows(records)
        return list(MANUAL_SCORE_COLUMNS), rows, warnings

    return _export(args, build)


def _export(args: argparse.Namespace, build) -> int:
    try:
        if not args.out.is_dir():
            raise OutputError(f"{args.out} is not an output folder of `dlgrade grade`")
        records = load_records(args.out)
        if not records:
            raise OutputError(f"{args.out} holds no grade records; run dlgrade grade first")
        columns, rows, warnings = build(records)
    except (CanvasExportError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    target = args.output or args.out / args.default_name
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(target, buffer.getvalue())
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(rows)} row(s) to {target}")
    return 0
