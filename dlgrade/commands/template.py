"""`dlgrade template answers`: write the answers.toml template for an edition."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "template",
        help="write a file students fill in",
        description="Write a commented template that students fill in.",
    )
    parser.add_argument("kind", choices=["answers"], help="answers: the theory answers.toml")
    parser.add_argument(
        "--assignment", required=True, help="assignment edition, e.g. fall2023 or spring2023"
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=None, help="file to write (default: standard output)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from checks.answers.template import render_template
    from reference.assignments import ManifestError, load_assignment

    try:
        assignment = load_assignment(args.assignment)
        text = render_template(assignment)
    except (ManifestError, KeyError) as exc:
        print(f"dlgrade template: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
        return 0
    if args.output.exists() and not args.force:
        print(f"dlgrade template: {args.output} exists; use --force to overwrite", file=sys.stderr)
        return 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0
