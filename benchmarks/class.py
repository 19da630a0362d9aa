"""dlgrade against bare execution of the same notebooks, side by side in one run.

    python benchmarks/class.py DIR [--quick] [--problems p3,p4] [--jobs 1]
                                   [--launchers zygote,fresh] [--only NAME ...]

For every submission folder in DIR it executes, in the same run and on the
same machine:

* **bare**: each notebook dlgrade would run for it (the first readable one per
  problem), with plain nbclient on a local ipykernel: no sandbox, no probes,
  no checks, nothing rendered; the same data (the provisioned copy dlgrade's
  sandbox sees, sliced in quick mode) and the same thread budget;
* **dlgrade**: `grade_class` on the whole folder, once per launcher (`zygote`:
  children forked from a pre-warmed process; `fresh`: one new interpreter per
  student, the start-up cost every student paid before the zygote), with
  similarity and every class output, as `dlgrade grade` does.

It prints, per submission and in total, dlgrade's wall time, the bare wall
time, their ratio and the overhead in seconds. Per-submission dlgrade time is
the record's duration (from the request to the finished record; the first
student of the zygote launcher waits for the zygote's warm-up); the total is
the wall time of the whole `grade_class` call (zygote start, similarity and
the class report included). CPU time is not reported: the kernels dlgrade kills at the end of a run are
never reaped by their parents, so their CPU seconds would go uncounted.
Figures are printed, never asserted; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from dlgrade.engine import SandboxConfig, discover
from dlgrade.engine.sandbox import SHIM_DIR
from dlgrade.engine.workspace import data_root, link_data
from dlgrade.grading.batch import LAUNCHERS, SimilarityOptions, find_submissions, grade_class
from dlgrade.grading.runner import GradeOptions, default_checks_dir, thread_budget
from dlgrade.records import GradeRecord

PROBLEMS = ("p3", "p4", "p5")
STARTER = Path(__file__).resolve().parents[1] / "reference/starter/hw1_prob5_starter.ipynb"


@dataclass(frozen=True)
class Timing:
    wall_s: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of submission folders")
    parser.add_argument("--quick", action="store_true", help="quick mode (data slices)")
    parser.add_argument("--problems", default="", help="e.g. p3,p4 (default: every problem)")
    parser.add_argument("--jobs", type=int, default=1, help="students at once (default 1)")
    parser.add_argument(
        "--launchers", default="zygote,fresh", help=f"comma-separated, from {', '.join(LAUNCHERS)}"
    )
    parser.add_argument("--only", action="append", default=[], help="only these submissions")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per student, seconds")
    return parser.parse_args(argv)


def measured(action: Callable[[], object]) -> tuple[Timing, object]:
    start = time.perf_counter()
    value = action()
    return Timing(time.perf_counter() - start), value


def bare_notebooks(folder: Path, problems: tuple[str, ...]) -> list[Path]:
    """The notebooks dlgrade runs for this submission: the first readable one per problem."""
    submission = discover(folder)
    chosen: list[Path] = []
    for problem in problems:
        sources = [s for s in submission.for_problem(problem) if s.status == "ok"]
        if sources and sources[0].path not in chosen:
            chosen.append(sources[0].path)
    return chosen


def run_bare(
    folder: Path, notebooks: list[Path], config: SandboxConfig, threads: int | None
) -> None:
    """Execute the notebooks like a plain "run it, then test it" grader would."""
    data = data_root(config)
    with tempfile.TemporaryDirectory(prefix="dlgrade-bare-") as scratch:
        work = Path(scratch) / "work"
        shutil.copytree(folder, work, symlinks=True)
        link_data(work, data)
        env = dict(os.environ)
        # The offline Keras/TensorFlow stand-ins (P5 notebooks import them) and the
        # provisioned ~/.keras copy: the same data as in dlgrade's sandbox.
        env.update(HOME=str(work), PYTHONPATH=str(SHIM_DIR / "standins"))
        env.pop("DLGRADE_SHIM", None)
        if threads is not None:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env.setdefault(name, str(threads))
        for notebook in notebooks:
            path = work / notebook.relative_to(folder)
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb,
                timeout=3600,
                allow_errors=True,
                kernel_name="python3",
                shutdown_kernel="immediate",
                resources={"metadata": {"path": str(path.parent)}},
            )
            client.execute(env=env, cwd=str(path.parent))


def grade(args: argparse.Namespace, root: Path, out: Path, launcher: str) -> list[GradeRecord]:
    options = GradeOptions(
        checks_dir=default_checks_dir(),
        quick=args.quick,
        problems=tuple(p for p in args.problems.split(",") if p),
        timeout_s=args.timeout,
    )
    similarity = SimilarityOptions(starters=(STARTER,) if STARTER.is_file() else ())
    outcome = grade_class(
        root, out, options, jobs=args.jobs, similarity=similarity, progress=False, launcher=launcher
    )
    return outcome.records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    launchers = [name for name in args.launchers.split(",") if name]
    problems = tuple(p for p in args.problems.split(",") if p) or PROBLEMS
    folders = find_submissions(args.submissions)
    if args.only:
        folders = {name: path for name, path in folders.items() if name in args.only}
    config = SandboxConfig(quick=args.quick)
    threads = thread_budget(GradeOptions(checks_dir=Path(".")), args.jobs).threads
    print(
        f"{len(folders)} submissions from {args.submissions}; quick={args.quick}; "
        f"problems={','.join(problems)}; jobs={args.jobs}; load average at start "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="dlgrade-class-bench-") as scratch:
        root = Path(scratch) / "class"
        root.mkdir()
        for name, folder in folders.items():
            shutil.copytree(folder, root / name, symlinks=True)
        bare: dict[str, Timing] = {}
        for name in folders:
            notebooks = bare_notebooks(root / name, problems)
            bare[name], _ = measured(
                lambda n=name, nbs=notebooks: run_bare(root / n, nbs, config, threads)
            )
            print(
                f"bare {name}: {bare[name].wall_s:.1f} s ({len(notebooks)} notebooks)", flush=True
            )
        graded: dict[str, tuple[Timing, dict[str, GradeRecord]]] = {}
        for launcher in launchers:
            out = Path(scratch) / f"out-{launcher}"
            timing, records = measured(lambda o=out, la=launcher: grade(args, root, o, la))
            graded[launcher] = (timing, {r.student: r for r in records})  # type: ignore[union-attr]
            print(f"dlgrade ({launcher}): {timing.wall_s:.1f} s", flush=True)
    print(f"load average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    for launcher, (timing, records) in graded.items():
        print_table(launcher, folders, bare, timing, records)
    return 0


def print_table(
    launcher: str,
    folders: dict[str, Path],
    bare: dict[str, Timing],
    total: Timing,
    records: dict[str, GradeRecord],
) -> None:
    print(f"launcher: {launcher}")
    header = (
        f"{'submission':<30} {'dlgrade_s':>9} {'bare_s':>7} {'ratio':>6} {'overhead_s':>10}  status"
    )
    print(header)
    for name in folders:
        record = records.get(name)
        took = record.duration_s if record else float("nan")
        status = record.status if record else "missing"
        print(row(name, took, bare[name].wall_s) + f"  {status}")
    bare_wall = sum(t.wall_s for t in bare.values())
    print(row("total", total.wall_s, bare_wall))
    count = max(len(folders), 1)
    print(f"overhead per student: {(total.wall_s - bare_wall) / count:.1f} s\n")


def row(name: str, dlgrade_s: float, bare_s: float) -> str:
    ratio = dlgrade_s / bare_s if bare_s else float("nan")
    return f"{name:<30} {dlgrade_s:>9.1f} {bare_s:>7.1f} {ratio:>6.2f} {dlgrade_s - bare_s:>10.1f}"


if __name__ == "__main__":
    sys.exit(main())
