"""The local runner against a local Dask cluster, side by side in one run.

    python benchmarks/cluster.py [DIR] [--quick] [--problems p3,p5] [--workers 2] [--repeat 1]

Grades every submission folder in DIR (default: submissions/examples) with

* **local**: `dlgrade grade --jobs N` (N students at once, forked from one zygote);
* **dask**: `dlgrade grade --cluster local:N` (a LocalCluster whose one worker
  grades N students at once from its own zygote; submissions shipped as zips,
  the datasets verified by `dlgrade data fetch` on the worker, results shipped
  back, OUT written by the client).

Each run starts from nothing (a fresh OUT, a new zygote, a new cluster) and
ends once the class files are written, so the Dask figure includes starting
the cluster and preparing its workers. With --repeat R the runs alternate
(local, dask, dask, local, ...) so that a change in the machine's load touches
both alike. It prints each wall time, the ratio dask/local of the medians and
of the best runs, and the Dask overhead as a percentage of the local runner's
time (target: below 5 %), the
per-student grading times of both, and the load average. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from dlgrade.grading.batch import SimilarityOptions, grade_class
from dlgrade.grading.cluster.config import Backend
from dlgrade.grading.cluster.dispatch import run_on_cluster
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.runner import default_checks_dir
from dlgrade.records import GradeRecord

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument(
        "submissions", type=Path, nargs="?", default=REPO / "submissions" / "examples"
    )
    parser.add_argument("--quick", action="store_true", help="quick mode (data slices)")
    parser.add_argument("--problems", default="", help="e.g. p3,p5 (default: every problem)")
    parser.add_argument("--workers", type=int, default=2, help="--jobs N against local:N")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs, alternating")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per student, seconds")
    return parser.parse_args(argv)


def grade(args: argparse.Namespace, runner: str, out: Path) -> tuple[float, list[GradeRecord]]:
    options = GradeOptions(
        checks_dir=default_checks_dir(),
        quick=args.quick,
        problems=tuple(p for p in args.problems.split(",") if p),
        timeout_s=args.timeout,
    )
    cluster = None
    if runner == "dask":
        backend = Backend(local_jobs=args.workers)

        def cluster(todo, out, options):
            return run_on_cluster(todo, out, options, backend, progress=False)

    start = time.perf_counter()
    outcome = grade_class(
        args.submissions,
        out,
        options,
        jobs=args.workers,
        similarity=SimilarityOptions(enabled=False),
        progress=False,
        runner=cluster,
    )
    return time.perf_counter() - start, outcome.records


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    order = [("local", "dask") if i % 2 == 0 else ("dask", "local") for i in range(args.repeat)]
    walls: dict[str, list[float]] = {"local": [], "dask": []}
    durations: dict[str, dict[str, float]] = {"local": {}, "dask": {}}
    with tempfile.TemporaryDirectory(prefix="dlgrade-cluster-bench-") as scratch:
        for index, pair in enumerate(order):
            for runner in pair:
                wall, records = grade(args, runner, Path(scratch) / f"{runner}-{index}")
                walls[runner].append(wall)
                errors = [r.student for r in records if r.status == "error"]
                print(
                    f"{runner:>5}: {wall:7.1f} s for {len(records)} submission(s)"
                    + (f"; grading errors: {', '.join(errors)}" if errors else ""),
                    flush=True,
                )
                if index == 0:
                    durations[runner] = {r.student: r.duration_s for r in records}
    local, dask = statistics.median(walls["local"]), statistics.median(walls["dask"])
    print(f"\nper student, first run (s): {'student':<34} {'local':>7} {'dask':>7}")
    for student in sorted(durations["local"]):
        here, there = durations["local"][student], durations["dask"].get(student, float("nan"))
        print(f"{'':28}{student:<34} {here:7.1f} {there:7.1f}")
    print(
        f"\nmedian wall time of {args.repeat}: local (--jobs {args.workers}) {local:.1f} s, "
        f"dask (--cluster local:{args.workers}) {dask:.1f} s"
    )
    print(
        f"ratio dask/local: {dask / local:.3f}; Dask overhead: {dask - local:+.1f} s, "
        f"{100 * (dask - local) / local:+.1f} % of the local runner's time (target < 5 %)"
    )
    # Other load on the machine only ever adds time: the fastest runs show the intrinsic cost.
    best_local, best_dask = min(walls["local"]), min(walls["dask"])
    print(
        f"best of {args.repeat}: local {best_local:.1f} s, dask {best_dask:.1f} s, "
        f"ratio {best_dask / best_local:.3f} ({100 * (best_dask - best_local) / best_local:+.1f} %)"
    )
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
