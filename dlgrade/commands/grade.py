"""`dlgrade grade DIR --out OUT`: grade a whole class, in parallel and resumably."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from dlgrade.engine.budgets import budgets
from dlgrade.engine.errors import SandboxUnavailable
from dlgrade.engine.isolation import MODES
from dlgrade.grading.batch import Runner, SimilarityOptions, grade_class
from dlgrade.grading.batch_errors import BatchError, disk_full
from dlgrade.grading.batch_summary import summary_lines
from dlgrade.grading.cluster.config import ClusterConfigError, parse_backend
from dlgrade.grading.jobs import LAUNCHERS
from dlgrade.grading.lockdown import LockdownError, prepare
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import OutputError
from dlgrade.grading.runner import CheckSuiteNotFound, default_checks_dir
from dlgrade.grading.threads import available_cores
from dlgrade.intake import LAYOUT_CHOICES, IntakeError
from reports.similarity import DEFAULT_THRESHOLD, SimilarityError

STARTER = Path("reference/starter/hw1_prob5_starter.ipynb")  # relative to the repository


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grade",
        help="grade every submission in DIR or an LMS export (parallel, resumable)",
        description="Grade every immediate sub-folder of DIR (names starting with _ or . are "
        "ignored), or a Gradescope export, Canvas download or GitHub Classroom folder (folder or "
        "zip; the layout is detected). A student whose OUT/<student>/grade.json exists is "
        "skipped unless --force.",
    )
    parser.add_argument(
        "root",
        type=Path,
        metavar="DIR",
        help="folder of submission folders, or an LMS export (folder or zip)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUT_CHOICES,
        default="auto",
        help="how DIR is laid out (default: detected): folders, gradescope (Export "
        "Submissions), canvas (Download Submissions), classroom (GitHub Classroom clones)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--jobs",
        type=int,
        default=available_cores(),
        help="submissions graded at once (default: the number of usable cores, %(default)s here)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="regrade students already graded: a notebook whose kept evidence still matches "
        "(same file, same checks' probes, same data slice, same harness) is judged from it "
        "without running again; the others run (see --rerun)",
    )
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="with --force: run every notebook again, even where its evidence still matches",
    )
    parser.add_argument("--only", metavar="NAME", help="(re)grade only this student")
    add_grading_options(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="wall-clock limit per student in seconds; 0 for none (default: room for three "
        "notebooks at the per-notebook limit, which scales with this machine's speed); parts "
        "not judged by then are `timeout`, naming the cell that was running",
    )
    parser.add_argument("--junit", action="store_true", help="also write OUT/<student>/junit.xml")
    parser.add_argument(
        "--checks", type=Path, default=None, help="checks folder (default: the harness's own)"
    )
    parser.add_argument(
        "--starter",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="starter notebook/code to subtract before comparing code (repeatable; "
        f"default: {STARTER} in the harness repository)",
    )
    parser.add_argument(
        "--similarity-threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="F",
        help="flag pairs sharing at least this fraction of code (default: %(default)g)",
    )
    parser.add_argument("--no-similarity", action="store_true", help="skip the code comparison")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--launcher",
        choices=LAUNCHERS,
        default="zygote",
        help="zygote: fork each student's grader from one pre-warmed process (default); "
        "fresh: start a new Python per student (slower; for comparison)",
    )
    add_cluster_options(parser)
    parser.set_defaults(func=run)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "grading on a Dask cluster",
        "Each student becomes a task on a Dask cluster instead of a local process "
        "(README: 'Grading a large class on a cluster'). Workers need dlgrade installed "
        "(the same version) and fetch the datasets themselves.",
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786"
    )
    where.add_argument(
        "--cluster",
        metavar="KIND",
        help="start a cluster for this run: local:N (N students at once on this machine), or slurm, pbs, "
        "sge (workers as batch jobs, configured by --cluster-config)",
    )
    group.add_argument(
        "--cluster-config",
        type=Path,
        metavar="FILE",
        help="YAML for --cluster slurm|pbs|sge: queue, account, jobs, cores, memory, walltime, "
        "gpu (the GPU request line), environment (a virtualenv on the nodes), setup, data_dir",
    )
    group.add_argument(
        "--shared-fs",
        action="store_true",
        help="workers see this machine's files at the same paths: send paths, not zips",
    )


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    """Options shared with `dlgrade check`."""
    parser.add_argument(
        "--assignment",
        choices=("fall2023", "spring2023"),
        default=None,
        help="assignment edition (default: detected from the submission)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="train on small data slices (fast, indicative)"
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="problem 5: train the student's network again from the grader's start even when "
        "the notebook's own training ran to the end (default: judge the notebook's training)",
    )
    parser.add_argument(
        "--problems",
        type=problem_list,
        default=(),
        metavar="LIST",
        help="grade only these problems, e.g. p4,p5",
    )
    parser.add_argument(
        "--isolation",
        choices=MODES,
        default="bwrap",
        help="how student notebooks are isolated (README: 'How grading stays honest'): bwrap "
        "(default: bubblewrap namespaces; refused with the fix where it cannot run), user (as "
        "root where namespaces are off, e.g. Gradescope: an unprivileged uid per notebook, no "
        "network sockets, the grader's files made root-only), none (no isolation; every record "
        "says so)",
    )


def problem_list(text: str) -> tuple[str, ...]:
    problems = tuple(p.strip() for p in text.split(",") if p.strip())
    if not problems:
        raise argparse.ArgumentTypeError("expected a comma-separated list such as p4,p5")
    return problems


def run(args: argparse.Namespace) -> int:
    if args.rerun and not args.force:
        print("error: --rerun re-executes students already graded: use it with --force",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        checks = args.checks.resolve() if args.checks else default_checks_dir()
        options = GradeOptions(
            checks_dir=checks,
            assignment=args.assignment,
            quick=args.quick,
            retrain=args.retrain,
            problems=args.problems,
            timeout_s=student_timeout(args.timeout, args.quick),
            junit=args.junit,
            isolation=args.isolation,
            evidence="reuse" if args.force and not args.rerun else "keep",
        )
        runner = _cluster_runner(args)
        if runner is None:  # a cluster's workers check their own machines
            secured = prepare(args.isolation, [args.root], [args.out], checks)
            if secured is not None:
                print(secured.summary(), file=sys.stderr)
        outcome = grade_class(
            args.root,
            args.out,
            options,
            jobs=args.jobs,
            force=args.force,
            only=args.only,
            similarity=_similarity_options(args, checks),
            progress=not args.no_progress,
            layout=args.layout,
            launcher=args.launcher,
            runner=runner,
        )
    except (
        BatchError,
        CheckSuiteNotFound,
        ClusterConfigError,
        IntakeError,
        LockdownError,
        OutputError,
        SandboxUnavailable,
        SimilarityError,
    ) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if not disk_full(err):
            raise
        print(f"error: {args.out} is full ({err}); free space and run again", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(outcome, args.out)))
    if args.force:
        print("\n".join(evidence_lines(args.out, outcome.graded)))
    return 1 if outcome.out_full else 0  # a script must not take a full OUT for done


def _cluster_runner(args: argparse.Namespace) -> Runner | None:
    """The Dask runner when --scheduler or --cluster asks for one (imports Dask only then)."""
    backend = parse_backend(args.scheduler, args.cluster, args.cluster_config)
    if backend is None:
        if args.shared_fs:
            raise ClusterConfigError("--shared-fs applies to --scheduler and --cluster only")
        return None
    from dlgrade.grading.cluster.dispatch import run_on_cluster

    return functools.partial(
        run_on_cluster, backend=backend, shared_fs=args.shared_fs, progress=not args.no_progress
    )


def student_timeout(option: float | None, quick: bool) -> float | None:
    """The per-student limit: the option (0 = none), else enough for three notebooks
    each at the notebook limit of dlgrade.engine.budgets, plus the grader's own work."""
    if option is not None:
        return option or None
    return 3 * budgets(quick).notebook_s + 600


def _similarity_options(args: argparse.Namespace, checks: Path) -> SimilarityOptions:
    if args.no_similarity:
        return SimilarityOptions(enabled=False)
    if args.starter is not None:
        missing = [str(p) for p in args.starter if not p.is_file()]
        if missing:
            raise BatchError(f"starter file(s) not found: {', '.join(missing)}")
        return SimilarityOptions(starters=tuple(args.starter), threshold=args.similarity_threshold)
    default = checks.parent / STARTER
    if not default.is_file():
        print(
            f"note: no starter at {default}; comparing code without subtracting it", file=sys.stderr
        )
    starters = (default,) if default.is_file() else ()
    return SimilarityOptions(starters=starters, threshold=args.similarity_threshold)


def evidence_lines(out: Path, graded: list[str], shown: int = 10) -> list[str]:
    """How many notebooks a --force run judged from kept evidence, and why the others ran."""
    from dlgrade.evidence.store import EVIDENCE_DIR, read_uses

    uses = [(s, u) for s in graded for u in read_uses(out / s / EVIDENCE_DIR)]
    executed = [(s, u) for s, u in uses if u.executed]
    lines = [
        f"evidence: {len(uses) - len(executed)} notebook(s) judged from kept evidence, "
        f"{len(executed)} executed"
    ]
    lines += [f"  executed {s}/{u.source}: {u.reason}" for s, u in executed[:shown]]
    if len(executed) > shown:
        lines.append(f"  ... and {len(executed) - shown} more (OUT/<student>/evidence/use.json)")
    return lines
