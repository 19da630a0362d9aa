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
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import json
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.grading.errors import LOST_SERVER, error_record, harness_lost, worth_retrying
from dlgrade.grading.outputs import (
    GRADE_FILE,
    grade_path,
    keep_previous_grade,
    load_records,
    student_files,
    write_class_outputs,
    write_similarity,
    write_student_files,
)
from dlgrade.grading.result import UnitResult
from dlgrade.grading.runner import GradeOptions, GradingJob, thread_budget
from dlgrade.grading.zygote import ForkedJob, ZygoteKeeper
from dlgrade.intake import ClassInput, read_class
from dlgrade.intake.outputs import WORK_DIR, record_intake
from dlgrade.intake.refused import write_refused
from dlgrade.records import PLEASE_REPORT, GradeRecord, Observation, ObservationKind
from dlgrade.text import readable
from reports.similarity import DEFAULT_THRESHOLD, SimilarityError, SimilarityReport, find_similar
from reports.summaries import hardest_part

POLL_S = 0.1  # how often finished processes are noticed; cheap next to grading
Launcher = Literal["zygote", "fresh"]
# Grades {student: folder} into OUT with the given options; returns the new records.
Runner = Callable[[dict[str, Path], Path, GradeOptions], list[GradeRecord]]
LAUNCHERS: tuple[Launcher, ...] = ("zygote", "fresh")


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
SPACE_PROBE_BYTES = 256 << 10  # room a student's files need; less free space is a full OUT


class BatchError(Exception):
    """The batch cannot start (no submissions, unknown student, bad folder)."""


class OutFull(Exception):
    """OUT's disk (or quota) is full: nothing more can be written there this run.

    Raised instead of writing an error record, so that every student not yet
    written has no grade.json and the resumed run, after space is freed, grades them.
    """

    def __init__(self, error: OSError, graded: Sequence[GradeRecord] = ()) -> None:
        super().__init__(str(error))
        self.error = error
        self.graded = list(graded)  # the records written before the disk filled


def disk_full(err: BaseException) -> bool:
    """Whether `err` (or what caused it) is a write refused for want of space."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in FULL_ERRNOS:
            return True
        err = err.__cause__ or err.__context__
    return False


def out_full(out: Path) -> OSError | None:
    """The error writing a probe of a student's size into OUT gives, when OUT is full.

    A grading process that fails for want of space often cannot even log why,
    so an error record is checked against OUT itself before it is written.
    """
    try:
        write_bytes_atomic(out / ".space-probe", bytes(SPACE_PROBE_BYTES), fsync=False)
        (out / ".space-probe").unlink()
    except OSError as err:
        if disk_full(err):
            return err
    return None


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
    submissions: dict[str, Path],
    out: Path,
    force: bool = False,
    only: str | None = None,
    quick: bool | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """(to grade, already done). `only` regrades one student whatever OUT holds.

    With `quick` given, a grade is never replaced by a weaker one: a quick run
    keeps full-mode grades (they count as done), while a full-mode run into an
    OUT that holds quick grades regrades those students rather than passing
    indicative quick scores off as real ones. A record of the harness losing
    the student (`worth_retrying`) is never done: resume retries it.
    """
    if only is not None:
        if only not in submissions:
            close = difflib.get_close_matches(only, submissions, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise BatchError(f"no submission folder named {only!r}{hint}")
        return {only: submissions[only]}, []
    if force:
        return dict(submissions), []
    done = [name for name in submissions if _graded(grade_path(out, name), quick)]
    todo = {name: path for name, path in submissions.items() if name not in done}
    return todo, done


def _graded(path: Path, quick: bool | None) -> bool:
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        retry = worth_retrying(GradeRecord.from_dict(data))
        made_quick = bool(data.get("quick"))
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return True  # unreadable: kept, and load_records names it with the rerun command
    if retry:
        return False
    # Only a full run over a quick grade replaces it: quick never beats full.
    return not (quick is False and made_quick)


def full_grades(out: Path, names: Sequence[str]) -> list[str]:
    """Those of `names` whose grade in OUT was made in full mode (what a quick run keeps)."""
    return [name for name in names if _made_in_full_mode(grade_path(out, name))]


def _made_in_full_mode(path: Path) -> bool:
    try:
        return not json.loads(path.read_text(encoding="utf-8")).get("quick")
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def job_starter(
    options: GradeOptions, launcher: Launcher
) -> Iterator[Callable[[str, Path, Path], GradingJob | ForkedJob]]:
    """`start(student, folder, work_dir)` for the chosen launcher (the zygote lives this long)."""
    if launcher not in LAUNCHERS:
        raise BatchError(f"unknown launcher {launcher!r}; choose one of {', '.join(LAUNCHERS)}")
    if launcher == "fresh":
        yield lambda name, folder, work: GradingJob(name, folder, work, options)
        return
    keeper = ZygoteKeeper(options)  # a zygote that dies is replaced at the next submission
    try:
        yield lambda name, folder, work: keeper.live().submit(name, folder, work, options)
    finally:
        keeper.close()


def run_jobs(
    todo: dict[str, Path],
    out: Path,
    options: GradeOptions,
    jobs: int,
    on_done: Callable[[GradeRecord], None] = lambda record: None,
    progress: bool = True,
    launcher: Launcher = "zygote",
) -> list[GradeRecord]:
    """Grade `todo` with at most `jobs` processes at once; write each student's files."""
    if jobs < 1:
        raise BatchError(f"--jobs must be at least 1, got {jobs}")
    if not todo:
        return []
    options = thread_budget(options, jobs)
    pending = deque(todo.items())
    running: list[GradingJob | ForkedJob] = []
    records = []
    losses: dict[str, str] = {}  # student -> how the harness lost their first try
    bar = progress_bar(len(todo), progress)
    with bar, job_starter(options, launcher) as start:
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    name, folder = pending.popleft()
                    running.append(start(name, folder, out / name))
                bar.set_postfix_str("now: " + ", ".join(j.student for j in running), refresh=False)
                bar.update(0)  # redraws at most once per mininterval, so the clock keeps ticking
                finished = [job for job in running if job.poll()]
                for job in finished:
                    running.remove(job)
                    result = job.finish()
                    if harness_lost(result.record) and job.student not in losses:
                        # The grading server died under this student: one more try, first.
                        losses[job.student] = _how_lost(result.record)
                        pending.appendleft((job.student, todo[job.student]))
                        continue
                    result = after_loss(result, losses.get(job.student))
                    if result.record.status == "error" and (full := out_full(out)):
                        raise OutFull(full)  # an error of the full disk, not the student's
                    write_unit(out, result)
                    records.append(result.record)
                    on_done(result.record)
                    bar.update(1)
                if not finished:
                    time.sleep(POLL_S)
        except OutFull as full:
            # Those running cannot be written either: stopped, they are left to the resume.
            raise OutFull(full.error, records) from full.error
        finally:
            # Interrupted (Ctrl-C) or a harness bug: leave no orphaned graders behind.
            for job in running:
                job.kill()
    return records


def _how_lost(record: GradeRecord) -> str:
    notes = [o.message for o in record.observations if o.kind == ObservationKind.GRADING_ERROR]
    return (notes[0].splitlines() or [""])[0] if notes else "lost"


def after_loss(result: UnitResult, first_loss: str | None) -> UnitResult:
    """The result of a student's second try, saying that the first was lost; a second loss
    is an error record naming both (a student whose code keeps killing the server)."""
    if first_loss is None:
        return result
    record = result.record
    if harness_lost(record):
        reason = (
            f"this student's grading was {LOST_SERVER} twice, so it was not retried again "
            "(a student who keeps losing it may have code that exhausts the machine's memory); "
            f"first: {first_loss}; then: {_how_lost(record)}"
        )
        record = error_record(record.student, reason, record.duration_s, record.quick)
    else:
        note = Observation(
            "harness",
            ObservationKind.WORKER,
            f"graded again on a restarted grading server: the first try {first_loss}",
        )
        record = replace(record, observations=[*record.observations, note])
    return UnitResult(record, {**result.files, **student_files(record)})


def progress_bar(total: int, enabled: bool = True) -> tqdm:
    """The batch's bar: done/total and ETA; runners put the students being graded in its postfix."""
    return tqdm(
        total=total,
        unit="student",
        disable=not enabled or not total,  # nothing to grade: no empty bar
        dynamic_ncols=True,
        mininterval=1.0,
    )


def write_unit(out: Path, result: UnitResult) -> None:
    """A student's files into OUT/<student>/, under the batch's name for the student.

    Files that cannot be written (a name the disk refuses, a path a folder
    holds) cost that student only: a grade.json alone says why, the class goes on.
    A full disk is everyone's: `OutFull`, and no grade.json, so a resume grades them.
    """
    student = result.record.student
    try:
        keep_previous_grade(out, student)
        write_student_files(out, student, result.files)
    except Exception as err:
        if disk_full(err):
            raise OutFull(err) from err  # grade.json is written last: none is there
        traceback.print_exc()
        reason = (
            f"the grading files could not be written into {out / student} "
            f"({type(err).__name__}: {err}); {PLEASE_REPORT}"
        )
        record = error_record(student, reason, result.record.duration_s, result.record.quick)
        try:
            write_student_files(out, student, {GRADE_FILE: student_files(record)[GRADE_FILE]})
        except Exception:  # not even grade.json: stderr is all that is left to say it
            traceback.print_exc()


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


def summary_lines(outcome: BatchOutcome, out: Path) -> Sequence[str]:
    """What ran, the scores, what needs a look (three lines), then the class report's path."""
    lines = [
        _run_line(outcome, out),
        _scores_line(outcome.records),
        _attention_line(outcome, out),
        f"class report: {out / 'index.html'}",
    ]
    if outcome.out_full:
        lines.append(
            f"OUT IS FULL: {outcome.out_full}; no grade was half-written: free space in {out} "
            "and run the same command again, it grades those left and rewrites the class files"
        )
    return [readable(line) for line in lines]  # a name that is not UTF-8 must print too


def _run_line(outcome: BatchOutcome, out: Path) -> str:
    line = f"graded {len(outcome.graded)} submission(s) in {outcome.wall_s:.1f} s"
    if outcome.resumed:
        line += f", {len(outcome.resumed)} already graded in {out} (--force regrades)"
    if outcome.kept_full:
        line += (
            f", {len(outcome.kept_full)} of them graded in full mode and kept "
            "(a quick run never replaces a full grade; --force does)"
        )
    if any(r.quick for r in outcome.records):
        line += (
            "; quick mode: trained on data slices, indicative only (drop --quick for real grades)"
        )
    if outcome.intake and outcome.intake.layout != "folders":
        line += f"; read as a {outcome.intake.layout} export"
    return line


def _scores_line(records: Sequence[GradeRecord]) -> str:
    # graded_percent leaves out parts the harness failed on and parts not graded
    scored = sorted(
        (percent, r.student) for r in records if (percent := r.graded_percent()) is not None
    )
    if not scored:
        return "scores: none (no submission could be graded)"
    mean = sum(score for score, _ in scored) / len(scored)
    (low, lowest), (high, highest) = scored[0], scored[-1]
    line = f"scores: mean {mean:.1f} %, lowest {low:.1f} % ({lowest}), highest {high:.1f} % ({highest})"
    hardest = hardest_part(records)
    if hardest:
        part, passed, judged = hardest
        line += f"; hardest part {part} (passed by {passed} of {judged})"
    return line


def _attention_line(outcome: BatchOutcome, out: Path) -> str:
    errors = outcome.errors
    error_note = (
        f" ({', '.join(errors)}: see their report.html; {PLEASE_REPORT}; after a fix "
        "regrade one with dlgrade grade DIR --out OUT --force --only NAME)"
    )
    manual = sum(r.status == "manual" for record in outcome.records for r in record.results)
    pairs = len(outcome.similarity.pairs) if outcome.similarity else 0
    pairs_note = f" ({out / 'similarity.html'})"
    items = [
        f"{len(errors)} grading error(s)" + (error_note if errors else ""),
        f"{manual} part(s) awaiting a TA (dlgrade merge-manual)",
        f"{pairs} pair(s) of similar code" + (pairs_note if pairs else ""),
    ]
    if outcome.intake and outcome.intake.unassigned:
        unassigned = len(outcome.intake.unassigned)
        items.append(f"{unassigned} file(s) belonging to no student (listed in the class report)")
    if outcome.similarity_error:
        items.append(outcome.similarity_error)
    return "to look at: " + ", ".join(items)
