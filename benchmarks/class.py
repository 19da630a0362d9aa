"""dlgrade against bare execution of the same notebooks, side by side in one run.

    python benchmarks/class.py DIR [--quick] [--problems p3,p4] [--jobs 1]
                                   [--launchers zygote,fresh] [--only NAME ...]

For every submission folder in DIR, one after the other, it runs (so that a
change in the machine's load touches all of them alike):

* **bare**: each notebook dlgrade would run for it (per problem, the one
  checks/sources.py chooses), with plain nbclient on a local ipykernel: no
  sandbox, no probes, no checks, nothing rendered; the same data (the
  provisioned copy dlgrade's sandbox sees, sliced in quick mode) and the same
  thread budget. Nor the shim: a notebook whose Colab lines import TensorFlow
  internals fails bare where dlgrade runs it, and a P4 DataLoader loop runs
  without dlgrade's decoded batches;
* **dlgrade** with each launcher: `zygote` (a child forked per student from one
  pre-warmed process, started once for the whole class, as `dlgrade grade`
  does) and `fresh` (a new interpreter per student: what every student cost
  before the zygote). Each student's files are written to OUT as in a batch.

Then the class outputs (similarity, grades.csv, index.html) are written once
per launcher. It prints, per submission and in total, dlgrade's wall time,
the bare wall time, their ratio and the overhead in seconds; the totals
include the zygote's warm-up and the class outputs. CPU time is not
reported: the kernels dlgrade kills at the end of a run are never reaped by
their parents, so their CPU seconds would go uncounted. Figures are printed,
never asserted; the load average is printed with them.
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

from nbclient import NotebookClient

from checks.sources import choose
from dlgrade.engine import SandboxConfig, discover
from dlgrade.engine.notebooks import load_notebook
from dlgrade.engine.sandbox import SHIM_DIR
from dlgrade.engine.workspace import data_root, link_data
from dlgrade.grading.jobs import LAUNCHERS, write_unit
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import load_records, write_class_outputs, write_similarity
from dlgrade.grading.result import UnitResult
from dlgrade.grading.runner import GradingJob, default_checks_dir
from dlgrade.grading.threads import thread_budget
from dlgrade.grading.zygote import Zygote
from dlgrade.intake import folders as class_folder
from reports.similarity import find_similar

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
    parser.add_argument(
        "--jobs", type=int, default=1, help="thread budget as for this many students at once"
    )
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
    """The notebooks dlgrade grades for this submission: per problem, the readable one
    checks/sources.py chooses (a final version over a draft, work over the starter)."""
    submission = discover(folder)
    chosen: list[Path] = []
    for problem in problems:
        sources = [s for s in submission.for_problem(problem) if s.status == "ok"]
        if sources and (path := choose(problem, sources).chosen.path) not in chosen:
            chosen.append(path)
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
            nb = load_notebook(path)  # .py exports too, split into cells as dlgrade does
            client = NotebookClient(
                nb,
                timeout=3600,
                allow_errors=True,
                kernel_name="python3",
                shutdown_kernel="immediate",
                resources={"metadata": {"path": str(path.parent)}},
            )
            client.execute(env=env, cwd=str(path.parent))


def grade_one(start: Callable[[], object]) -> tuple[Timing, UnitResult]:
    """Start a job, wait for it, return its wall time and result."""
    begin = time.perf_counter()
    job = start()
    while not job.poll():  # type: ignore[attr-defined]
        time.sleep(0.05)
    result = job.finish()  # type: ignore[attr-defined]
    return Timing(time.perf_counter() - begin), result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    launchers = [name for name in args.launchers.split(",") if name]
    problems = tuple(p for p in args.problems.split(",") if p) or PROBLEMS
    folders = class_folder.read(args.submissions).folders()  # as `dlgrade grade` reads it
    if args.only:
        folders = {name: path for name, path in folders.items() if name in args.only}
    config = SandboxConfig(quick=args.quick)
    options = thread_budget(
        GradeOptions(
            checks_dir=default_checks_dir(),
            quick=args.quick,
            problems=tuple(p for p in args.problems.split(",") if p),
            timeout_s=args.timeout,
        ),
        args.jobs,
    )
    print(
        f"{len(folders)} submissions from {args.submissions}; quick={args.quick}; "
        f"problems={','.join(problems)}; load average at start "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    bare: dict[str, Timing] = {}
    graded: dict[str, dict[str, tuple[Timing, UnitResult]]] = {la: {} for la in launchers}
    extra: dict[str, Timing] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dlgrade-class-bench-") as scratch,
        Zygote(options) as zygote,
    ):
        extra["zygote warm-up"] = Timing(zygote.wait_ready())
        root = Path(scratch) / "class"
        for name, folder in folders.items():
            shutil.copytree(folder, root / name, symlinks=True)
            notebooks = bare_notebooks(root / name, problems)
            bare[name], _ = measured(
                lambda n=name, nbs=notebooks: run_bare(root / n, nbs, config, options.threads)
            )
            line = f"{name}: bare {bare[name].wall_s:.1f} s ({len(notebooks)} notebooks)"
            for launcher in launchers:
                out = Path(scratch) / f"out-{launcher}"
                if launcher == "zygote":
                    starter = lambda n=name, o=out: zygote.submit(n, root / n, o / n, options)  # noqa: E731
                else:
                    starter = lambda n=name, o=out: GradingJob(n, root / n, o / n, options)  # noqa: E731
                timing, result = grade_one(starter)
                write_unit(out, result)
                graded[launcher][name] = (timing, result)
                line += f"; {launcher} {timing.wall_s:.1f} s"
            print(line, flush=True)
        starters = (STARTER,) if STARTER.is_file() else ()
        for launcher in launchers:
            out = Path(scratch) / f"out-{launcher}"
            extra[f"class outputs ({launcher})"], _ = measured(
                lambda o=out: class_outputs(root, o, starters)
            )
    print(f"load average at end {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    for launcher in launchers:
        fixed = extra[f"class outputs ({launcher})"].wall_s
        if launcher == "zygote":
            fixed += extra["zygote warm-up"].wall_s
        print_table(launcher, bare, graded[launcher], fixed)
    for what, timing in extra.items():
        print(f"{what}: {timing.wall_s:.1f} s")
    return 0


def class_outputs(root: Path, out: Path, starters: tuple[Path, ...]) -> None:
    """What `dlgrade grade` writes once for the class after the last student."""
    report = find_similar(class_folder.read(root).folders(), starters)
    write_similarity(out, report)
    write_class_outputs(out, load_records(out), report)


def print_table(
    launcher: str,
    bare: dict[str, Timing],
    graded: dict[str, tuple[Timing, UnitResult]],
    fixed_s: float,
) -> None:
    print(f"launcher: {launcher}")
    print(
        f"{'submission':<30} {'dlgrade_s':>9} {'bare_s':>7} {'ratio':>6} {'overhead_s':>10}  status"
    )
    for name, (timing, result) in graded.items():
        print(row(name, timing.wall_s, bare[name].wall_s) + f"  {result.record.status}")
    bare_total = sum(t.wall_s for t in bare.values())
    dlgrade_total = sum(t.wall_s for t, _ in graded.values()) + fixed_s
    print(row("total", dlgrade_total, bare_total) + f"  (incl. {fixed_s:.1f} s once per class)")
    count = max(len(graded), 1)
    per_student = sum(t.wall_s for t, _ in graded.values()) - bare_total
    print(
        f"overhead per student: {(dlgrade_total - bare_total) / count:.1f} s with the "
        f"once-per-class work spread over {count}, {per_student / count:.1f} s without\n"
    )


def row(name: str, dlgrade_s: float, bare_s: float) -> str:
    ratio = dlgrade_s / bare_s if bare_s else float("nan")
    return f"{name:<30} {dlgrade_s:>9.1f} {bare_s:>7.1f} {ratio:>6.2f} {dlgrade_s - bare_s:>10.1f}"


if __name__ == "__main__":
    sys.exit(main())
