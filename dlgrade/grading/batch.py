"""Grade a folder of submissions: N at a time, one fresh process each, resumable.

Each immediate sub-folder of the class folder (not starting with "_" or ".")
is one submission; graded by `dlgrade.grading.unit.grade_submission` in a process of its own: by
default a child forked from a pre-warmed zygote (`dlgrade.grading.zygote`), or a
fresh interpreter (`launcher="fresh"`). LMS exports (Gradescope, Canvas, GitHub
Classroom) are read by `dlgrade.intake`, which also supplies each student's
identity. A finished student's `OUT/<student>/grade.json` marks it done, so an
interrupted run picks up where it stopped. One submission that
crashes or hangs gets an "error" record and never holds up the others, and
nothing in one student's files (unreadable, unrenderable, uncomparable) stops
the class files: grades.csv, grades.json, index.html and similarity.html are
always written. A full OUT is no student's: the run stops writing, leaves
those not yet written without a grade.json (a resume grades them) and says so.

The class run is here (`grade_class`); its parts, one job each: `resume` (whom to
grade, from what OUT holds), `jobs` (the job loop, writing each student into OUT),
`batch_errors` (a batch that cannot start; a full OUT) and `batch_summary` (the
lines printed after the run).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.grading.batch_errors import BatchError, OutFull, disk_full
from dlgrade.grading.jobs import Launcher, run_jobs
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import (
    load_records,
    write_class_outputs,
    write_similarity,
)
from dlgrade.grading.resume import full_grades, select
from dlgrade.intake import ClassInput, read_class
from dlgrade.intake.outputs import WORK_DIR, record_intake
from dlgrade.intake.refused import write_refused
from dlgrade.records import PLEASE_REPORT, GradeRecord
from reports.similarity import DEFAULT_THRESHOLD, SimilarityError, SimilarityReport, find_similar

# Grades {student: folder} into OUT with the given options; returns the new records.
Runner = Callable[[dict[str, Path], Path, GradeOptions], list[GradeRecord]]


@dataclass(frozen=True)
class BatchOutcome:
    records: list[GradeRecord]  # every student in OUT after the run
    graded: list[str]  # graded in this run
    resumed: list[str]  # skipped because OUT already had their grade
    wall_s: float
    similarity: SimilarityReport | None
    intake: ClassInput | None = None
    similarity_error: str = ""  # why the comparison as a whole could not run
    kept_full: list[str] = field(default_factory=list)  # full grades a quick run left alone
    out_full: str = ""  # what could not be written for want of space in OUT, and what to do

    @property
    def errors(self) -> list[str]:
        """Students the harness failed on: the whole grading run or some parts."""
        return [r.student for r in self.records if r.status == "error" or r.harness_errors]


@dataclass(frozen=True)
class SimilarityOptions:
    enabled: bool = True
    starters: tuple[Path, ...] = ()
    threshold: float = DEFAULT_THRESHOLD


def grade_class(
    root: Path,
    out: Path,
    options: GradeOptions,
    jobs: int,
    force: bool = False,
    only: str | None = None,
    similarity: SimilarityOptions = SimilarityOptions(),
    progress: bool = True,
    layout: str = "auto",
    launcher: Launcher = "zygote",
    runner: Runner | None = None,
) -> BatchOutcome:
    """Grade what is not yet graded, then rebuild the class files from OUT.

    `runner(todo, out, options)` grades elsewhere (a Dask cluster:
    `dlgrade.grading.cluster.dispatch`) instead of `jobs` local processes.
    """
    start = time.monotonic()
    # OUT may sit inside DIR (DIR/grades, say): it is not a student.
    intake = read_class(root, out / WORK_DIR, layout, exclude=(out,))
    submissions = intake.folders()
    if not submissions:
        raise BatchError(
            f"no submission folders in {root} (names starting with _ or . are ignored)"
        )
    todo, resumed = select(submissions, out, force, only, quick=options.quick)
    out.mkdir(parents=True, exist_ok=True)
    # An upload the intake could not read whole gets a record saying why, not a grading run.
    refused = {
        k: (intake.hand_ins[k].refused, f) for k, f in todo.items() if intake.hand_ins[k].refused
    }
    todo = {k: f for k, f in todo.items() if k not in refused}
    full = ""
    try:
        if runner is not None:
            graded = runner(todo, out, options)
        else:
            graded = run_jobs(todo, out, options, jobs, progress=progress, launcher=launcher)
        graded += write_refused(out, refused, options)
    except OutFull as err:
        graded = err.graded
        left = sorted((set(todo) | set(refused)) - {r.student for r in graded})
        full = f"{len(left)} student(s) not graded ({', '.join(left)}): {err.error}"
    report, problem = _similarity(submissions, similarity)
    records, unwritten = _class_files(out, intake, report)
    full = "; ".join(filter(None, [full, unwritten]))
    return BatchOutcome(
        records=records,
        graded=[r.student for r in graded],
        resumed=resumed,
        wall_s=time.monotonic() - start,
        similarity=report,
        intake=intake,
        similarity_error=problem,
        kept_full=full_grades(out, resumed) if options.quick else [],
        out_full=full,
    )


def _class_files(
    out: Path, intake: ClassInput, report: SimilarityReport | None
) -> tuple[list[GradeRecord], str]:
    """Write the class files from OUT's grades: (the records, why they are not written).

    A full disk leaves the old class files whole (every write is atomic) and is
    said; the grade.json files stay the truth, and the resumed run rewrites these.
    """
    records = load_records(out)
    try:
        if report is not None:
            write_similarity(out, report)
        records = record_intake(out, intake, records)
        write_class_outputs(out, records, report)
    except OSError as err:
        if not disk_full(err):
            raise
        return records, f"the class files (grades.csv, index.html, ...) not written: {err}"
    return records, ""


def _similarity(
    submissions: dict[str, Path], options: SimilarityOptions
) -> tuple[SimilarityReport | None, str]:
    """The comparison, or why it could not run at all (then the class files go on without it).

    One student's unreadable files are handled inside `find_similar` (that
    student is listed as not compared); what reaches here is the starter
    file or a bug, which must not cost the class its grades either.
    """
    if not options.enabled or len(submissions) < 2:
        return None, ""
    try:
        return find_similar(submissions, options.starters, options.threshold), ""
    except SimilarityError as err:
        return None, f"code similarity was not computed: {err}"
    except Exception as err:  # a bug in the comparison: report it, keep the class outputs
        traceback.print_exc()
        return (
            None,
            f"code similarity was not computed ({type(err).__name__}: {err}); {PLEASE_REPORT}",
        )
