"""Grade a folder of submissions: N `pytest checks` processes at a time, resumable.

Each immediate sub-folder of the class folder (not starting with "_" or ".")
is one submission; LMS exports (Gradescope, Canvas, GitHub Classroom) are read
by `dlgrade.intake`, which also supplies each student's identity. A finished student's `OUT/<student>/grade.json` marks it
done, so an interrupted run picks up where it stopped. One submission that
crashes or hangs gets an "error" record and never holds up the others, and
nothing in one student's files (unreadable, unrenderable, uncomparable) stops
the class files: grades.csv, grades.json, index.html and similarity.html are
always written.
"""

from __future__ import annotations

import difflib
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from dlgrade.grading.outputs import (
    grade_path,
    load_records,
    write_class_outputs,
    write_similarity,
    write_student_outputs,
)
from dlgrade.grading.runner import GradeOptions, GradingJob, thread_budget
from dlgrade.intake import ClassInput, read_class
from dlgrade.intake.outputs import WORK_DIR, record_intake
from dlgrade.records import PLEASE_REPORT, GradeRecord
from reports.similarity import DEFAULT_THRESHOLD, SimilarityError, SimilarityReport, find_similar

POLL_S = 0.2  # how often finished processes are noticed; cheap next to minutes of grading


class BatchError(Exception):
    """The batch cannot start (no submissions, unknown student, bad folder)."""


@dataclass(frozen=True)
class BatchOutcome:
    records: list[GradeRecord]  # every student in OUT after the run
    graded: list[str]  # graded in this run
    resumed: list[str]  # skipped because OUT already had their grade
    wall_s: float
    similarity: SimilarityReport | None
    intake: ClassInput | None = None
    similarity_error: str = ""  # why the comparison as a whole could not run

    @property
    def errors(self) -> list[str]:
        """Students the harness failed on: the whole grading run or some parts."""
        return [r.student for r in self.records if r.status == "error" or r.harness_errors]


@dataclass(frozen=True)
class SimilarityOptions:
    enabled: bool = True
    starters: tuple[Path, ...] = ()
    threshold: float = DEFAULT_THRESHOLD


def find_submissions(root: Path) -> dict[str, Path]:
    """Student name -> folder, for every immediate sub-folder not starting with _ or ."""
    if not root.is_dir():
        raise BatchError(f"submissions folder {root} does not exist or is not a folder")
    return {
        path.name: path
        for path in sorted(root.iterdir())
        if path.is_dir() and not path.name.startswith(("_", "."))
    }


def select(
    submissions: dict[str, Path], out: Path, force: bool = False, only: str | None = None
) -> tuple[dict[str, Path], list[str]]:
    """(to grade, already done). `only` regrades one student whatever OUT holds."""
    if only is not None:
        if only not in submissions:
            close = difflib.get_close_matches(only, submissions, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise BatchError(f"no submission folder named {only!r}{hint}")
        return {only: submissions[only]}, []
    if force:
        return dict(submissions), []
    done = [name for name in submissions if grade_path(out, name).is_file()]
    todo = {name: path for name, path in submissions.items() if name not in done}
    return todo, done


def run_jobs(
    todo: dict[str, Path],
    out: Path,
    options: GradeOptions,
    jobs: int,
    on_done: Callable[[GradeRecord], None] = lambda record: None,
    progress: bool = True,
) -> list[GradeRecord]:
    """Grade `todo` with at most `jobs` processes at once; write each student's files."""
    if jobs < 1:
        raise BatchError(f"--jobs must be at least 1, got {jobs}")
    options = thread_budget(options, jobs)
    pending = deque(todo.items())
    running: list[GradingJob] = []
    records = []
    bar = tqdm(
        total=len(todo), unit="student", disable=not progress, dynamic_ncols=True, mininterval=1.0
    )
    with bar:
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    name, folder = pending.popleft()
                    running.append(GradingJob(name, folder, out / name, options))
                bar.set_postfix_str("now: " + ", ".join(j.student for j in running), refresh=False)
                bar.update(0)  # redraws at most once per mininterval, so the clock keeps ticking
                finished = [job for job in running if job.poll()]
                for job in finished:
                    running.remove(job)
                    record = write_student_outputs(out, job.finish())
                    records.append(record)
                    on_done(record)
                    bar.update(1)
                if not finished:
                    time.sleep(POLL_S)
        finally:
            # Interrupted (Ctrl-C) or a harness bug: leave no orphaned graders behind.
            for job in running:
                job.kill()
    return records


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
) -> BatchOutcome:
    """Grade what is not yet graded, then rebuild the class files from OUT."""
    start = time.monotonic()
    # OUT may sit inside DIR (DIR/grades, say): it is not a student.
    intake = read_class(root, out / WORK_DIR, layout, exclude=(out,))
    submissions = intake.folders()
    if not submissions:
        raise BatchError(
            f"no submission folders in {root} (names starting with _ or . are ignored)"
        )
    todo, resumed = select(submissions, out, force, only)
    out.mkdir(parents=True, exist_ok=True)
    graded = run_jobs(todo, out, options, jobs, progress=progress)
    report, problem = _similarity(submissions, similarity)
    if report is not None:
        write_similarity(out, report)
    records = record_intake(out, intake, load_records(out))
    write_class_outputs(out, records, report)
    return BatchOutcome(
        records=records,
        graded=[r.student for r in graded],
        resumed=resumed,
        wall_s=time.monotonic() - start,
        similarity=report,
        intake=intake,
        similarity_error=problem,
    )


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


def summary_lines(outcome: BatchOutcome, out: Path) -> Sequence[str]:
    """The few lines printed after a batch."""
    records = outcome.records
    scores = [p for p in (r.graded_percent() for r in records) if p is not None]
    lines = [
        f"graded {len(outcome.graded)} submission(s) in {outcome.wall_s:.1f} s"
        + (
            f"; {len(outcome.resumed)} already graded (use --force to regrade)"
            if outcome.resumed
            else ""
        ),
    ]
    if scores:
        lines.append(
            f"class: {len(records)} submissions, mean {sum(scores) / len(scores):.1f} % "
            "(harness errors left out)"
        )
    if outcome.errors:
        lines.append(
            f"{len(outcome.errors)} submission(s) with harness errors: {', '.join(outcome.errors)} "
            f"(see their report.html; {PLEASE_REPORT}; after a fix regrade one with "
            "dlgrade grade DIR --out OUT --force --only NAME)"
        )
    if outcome.intake and outcome.intake.layout != "folders":
        lines.append(f"read as a {outcome.intake.layout} export")
    if outcome.intake and outcome.intake.unassigned:
        lines.append(
            f"{len(outcome.intake.unassigned)} file(s) belong to no student: listed in the class report"
        )
    if outcome.similarity_error:
        lines.append(outcome.similarity_error)
    if outcome.similarity and outcome.similarity.pairs:
        lines.append(
            f"{len(outcome.similarity.pairs)} pair(s) of similar code: {out / 'similarity.html'}"
        )
    lines.append(f"class report: {out / 'index.html'}")
    return lines
