"""The files a grading run leaves in OUT, all written atomically.

    OUT/<student>/grade.json     GradeRecord.to_dict() (the source of truth; resumability)
    OUT/<student>/results.json   Gradescope's format
    OUT/<student>/report.html    the student's report
    OUT/<student>/grade.previous.json  the grade.json a regrade replaced (kept, never read)
    OUT/grades.csv, grades.json  the class, one row / record per student
    OUT/similarity.json          similarity scores (kept so reports can be rebuilt)
    OUT/similarity.html          side-by-side view of flagged pairs
    OUT/intake.json              how the class was read (layout, files no student was given)
    OUT/index.html               the class report

Every other file is derived from the grade.json files, so `rebuild_class_outputs`
can regenerate all of them (after a manual-review merge, say).

One student's files are derived by `dlgrade.grading.student_files` (which the
grading children import too). Nothing about one student stops the class files: a report page that cannot
be rendered becomes a plain page plus a `report-error` observation, and a
grade.json that cannot be read back becomes that student's error record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from dlgrade.data.atomic import atomic_output
from dlgrade.grading.errors import error_record
from dlgrade.grading.student_files import GRADE_FILE, json_bytes, student_files
from dlgrade.records import GradeRecord, IntakeSummary, rerun_hint
from dlgrade.text import readable
from reports.render import render_index, render_similarity
from reports.similarity import SimilarityReport
from reports.summaries import grades_frame

PREVIOUS_GRADE_FILE = "grade.previous.json"  # the grade a regrade replaced
SIMILARITY_JSON = "similarity.json"
INTAKE_JSON = "intake.json"  # written by dlgrade.intake.outputs


class OutputError(Exception):
    """An output folder holds something the harness cannot read back."""


def write_text(path: Path, text: str) -> None:
    """Write `text` so that readers see the old file or the whole new one, never half."""
    with atomic_output(path, fsync=False) as tmp:
        tmp.write_bytes(readable(text).encode("utf-8"))


def write_json(path: Path, data: object) -> None:
    with atomic_output(path, fsync=False) as tmp:
        tmp.write_bytes(json_bytes(data))


def grade_path(out: Path, student: str) -> Path:
    return out / student / GRADE_FILE


def write_student_files(out: Path, student: str, files: dict[str, bytes]) -> None:
    """Write a student's files; grade.json last: its presence means "this student is done"
    to a resumed run. Names are relative and stay inside OUT/<student>/."""
    folder = out / student
    for name in sorted(files, key=lambda n: n == GRADE_FILE):
        path = folder / name
        if path.resolve().parent != folder.resolve() or name.startswith("."):
            raise OutputError(f"refusing to write {name!r} outside {folder}")
        with atomic_output(path, fsync=False) as tmp:
            tmp.write_bytes(files[name])


def keep_previous_grade(out: Path, student: str) -> None:
    """Copy OUT/<student>/grade.json to grade.previous.json before a new grade replaces it,
    so a regrade (--force, --only, a full run over a quick one) never loses the old grade."""
    current = grade_path(out, student)
    if current.is_file():
        data = current.read_bytes()
        with atomic_output(current.with_name(PREVIOUS_GRADE_FILE), fsync=False) as tmp:
            tmp.write_bytes(data)


def write_student_outputs(out: Path, record: GradeRecord) -> GradeRecord:
    """Render and write one student's files; the record as written (with a
    `report-error` observation when its page could not be rendered)."""
    files = student_files(record)
    write_student_files(out, record.student, files)
    return GradeRecord.from_dict(json.loads(files[GRADE_FILE]))


def read_record(path: Path) -> GradeRecord:
    try:
        return GradeRecord.from_dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise OutputError(
            f"cannot read grade record {path}: {err!r}; delete it and regrade that student "
            "(dlgrade grade DIR --out OUT --only NAME)"
        ) from err


def load_records(out: Path) -> list[GradeRecord]:
    """Every student's record in OUT, sorted by student; an unreadable one becomes an error record."""
    records = []
    for path in sorted(out.glob(f"*/{GRADE_FILE}")):
        try:
            records.append(read_record(path))
        except OutputError as err:
            student = path.parent.name
            reason = f"{err}; or: {rerun_hint(student)}"
            records.append(error_record(student, reason, 0.0, quick=False))
    return sorted(records, key=lambda r: r.student)


def load_similarity(out: Path) -> SimilarityReport | None:
    path = out / SIMILARITY_JSON
    if not path.is_file():
        return None
    try:
        return SimilarityReport.from_dict(json.loads(path.read_text("utf-8")))
    except (ValueError, KeyError, TypeError) as err:
        raise OutputError(
            f"cannot read {path}: {err!r}; rerun `dlgrade grade` to rebuild it"
        ) from err


def load_intake(out: Path) -> IntakeSummary | None:
    path = out / INTAKE_JSON
    if not path.is_file():
        return None
    try:
        return IntakeSummary.from_dict(json.loads(path.read_text("utf-8")))
    except (ValueError, KeyError, TypeError) as err:
        raise OutputError(
            f"cannot read {path}: {err!r}; rerun `dlgrade grade` to rebuild it"
        ) from err


def write_similarity(out: Path, report: SimilarityReport) -> None:
    write_json(out / SIMILARITY_JSON, report.to_dict())
    write_text(out / "similarity.html", render_similarity(report))


def write_class_outputs(
    out: Path, records: Sequence[GradeRecord], similarity: SimilarityReport | None
) -> None:
    """grades.csv, grades.json and index.html for the whole class."""
    frame = grades_frame(records)
    write_text(out / "grades.csv", frame.to_csv(index=False))
    write_json(out / "grades.json", [r.to_dict() for r in records])
    write_text(out / "index.html", render_index(records, similarity, intake=load_intake(out)))


def rebuild_reports(out: Path) -> list[GradeRecord]:
    """Regenerate every derived file in OUT from the grade.json files."""
    records = [write_student_outputs(out, record) for record in load_records(out)]
    write_class_outputs(out, records, load_similarity(out))
    return records
