"""Grade the field corpus and print how many expected verdicts agree, and the time it took.

    python benchmarks/field.py                # full mode: real-size training (long)
    python benchmarks/field.py --quick        # quick mode, as tests/test_field_corpus.py
    python benchmarks/field.py --out OUT      # keep (and resume) the grades in OUT

The agreement must be 100 % in both modes (issue 9); the figure and the wall
time go in the closing note. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dlgrade.cli import main

FIELD = Path(__file__).resolve().parents[1] / "submissions" / "field"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick mode (data slices)")
    parser.add_argument("--out", type=Path, default=None, help="grades folder (resumable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--problems", default=None, help="only these problems, e.g. p4")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    argv = ["verify", str(FIELD), "--jobs", str(args.jobs)]
    if args.quick:
        argv.append("--quick")
    if args.out:
        argv += ["--out", str(args.out)]
    if args.problems:
        argv += ["--problems", args.problems]
    start = time.perf_counter()
    code = main(argv)
    print(f"wall time: {time.perf_counter() - start:.0f} s (jobs {args.jobs})")
    sys.exit(code)
