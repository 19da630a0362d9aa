"""Benchmark the batch grader: --jobs 1 against --jobs 2 (or any list), side by side.

    python benchmarks/grading.py SUBMISSIONS [--quick] [--jobs-list 1,2] [--problems p4,p5]

Grades every submission folder once per jobs value (into a fresh temporary
OUT each time, so nothing is resumed) and prints:

* the wall time per jobs value and the speed-up over the first (the target
  on a 2-core machine is >= 1.8x for --jobs 2), next to the best speed-up the
  submission times allow (one long submission caps it);
* per submission, from the first run (no contention): the grading time split
  into the student's own compute (GradeRecord.student_compute_s, time spent
  running their notebook cells) and harness overhead (everything else:
  process and kernel start-up, data provisioning, probes, judging).

Figures are printed, never asserted: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dlgrade.grading.batch import SimilarityOptions, grade_class
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.runner import default_checks_dir
from dlgrade.intake import folders
from dlgrade.records import GradeRecord


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of submission folders")
    parser.add_argument("--jobs-list", default="1,2", help="comma-separated jobs values")
    parser.add_argument("--quick", action="store_true", help="grade in quick mode")
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--problems", default="", help="e.g. p4,p5")
    parser.add_argument("--checks", type=Path, default=None, help="checks folder")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per student, seconds")
    return parser.parse_args(argv)


def run_once(args: argparse.Namespace, jobs: int, out: Path) -> tuple[float, list[GradeRecord]]:
    options = GradeOptions(
        checks_dir=args.checks.resolve() if args.checks else default_checks_dir(),
        assignment=args.assignment,
        quick=args.quick,
        problems=tuple(p for p in args.problems.split(",") if p),
        timeout_s=args.timeout,
    )
    start = time.perf_counter()
    outcome = grade_class(
        args.submissions, out, options, jobs=jobs, similarity=SimilarityOptions(enabled=False)
    )
    return time.perf_counter() - start, outcome.records


def best_speedup(durations: list[float], jobs: int) -> float:
    """Upper bound for `jobs` workers: total work over the longest unavoidable stretch."""
    total = sum(durations)
    return total / max(max(durations), total / jobs) if total else 1.0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    jobs_list = [int(j) for j in args.jobs_list.split(",")]
    count = len(folders.read(args.submissions).folders())  # as `dlgrade grade` reads it
    print(f"{count} submissions in {args.submissions}; jobs: {jobs_list}; quick={args.quick}")
    walls: dict[int, float] = {}
    first: list[GradeRecord] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as scratch:
        for jobs in jobs_list:
            wall, records = run_once(args, jobs, Path(scratch) / f"jobs-{jobs}")
            walls[jobs] = wall
            first = first or records
            errors = [r.student for r in records if r.status == "error"]
            print(
                f"--jobs {jobs}: {wall:.1f} s"
                + (f"  (errors: {', '.join(errors)})" if errors else "")
            )
    base = jobs_list[0]
    durations = [r.duration_s for r in first]
    print("\njobs   wall_s   speed-up   best possible")
    for jobs in jobs_list:
        speedup = walls[base] / walls[jobs]
        print(
            f"{jobs:>4} {walls[jobs]:>8.1f} {speedup:>9.2f}x {best_speedup(durations, jobs):>13.2f}x"
        )
    print(f"\nper submission (from --jobs {base}):")
    print(f"{'student':<24} {'total_s':>8} {'compute_s':>10} {'overhead_s':>11} {'overhead':>9}")
    for r in sorted(first, key=lambda r: -r.duration_s):
        overhead = max(r.duration_s - r.student_compute_s, 0.0)
        share = 100 * overhead / r.duration_s if r.duration_s else 0.0
        print(
            f"{r.student:<24} {r.duration_s:>8.1f} {r.student_compute_s:>10.1f} "
            f"{overhead:>11.1f} {share:>8.0f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
