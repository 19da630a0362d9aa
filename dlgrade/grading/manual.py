"""Fold a TA's points for manual-review parts into the grade records.

The CSV has columns `student, part, points` and optionally `comment`. Every
row is validated before anything is written, and all problems are reported
together, each naming its CSV line, so one fix-and-rerun is enough. A part
merged before may be merged again (a TA correcting a score).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade.grading.outputs import (
    load_records,
    load_similarity,
    write_class_outputs,
    write_student_outputs,
)
from dlgrade.records import REVIEW_KEY, CheckResult, GradeRecord, PartStatus

REQUIRED = ("student", "part", "points")


class ManualScoreError(ValueError):
    """The manual-scores CSV cannot be applied; the message lists every bad row."""


@dataclass(frozen=True)
class ManualScore:
    line: int  # line in the CSV, for error messages
    student: str
    part: str
    points: float
    comment: str = ""
    ta: str = ""  # who decided (the review desk's --ta); recorded only when given
    at: str = ""  # when (ISO 8601, UTC); recorded only when given
    rubric: tuple[str, ...] = ()  # labels of the rubric items applied; recorded only when given


def read_manual_csv(path: Path) -> list[ManualScore]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ManualScoreError(
                    f"{path}: missing column(s) {', '.join(missing)}; "
                    "expected a header line: student,part,points[,comment]"
                )
            rows = [(reader.line_num, row) for row in reader]
    except OSError as err:
        raise ManualScoreError(f"cannot read {path}: {err}") from err
    scores, problems = [], []
    for line, row in rows:
        try:
            scores.append(_score(line, row))
        except ManualScoreError as err:
            problems.append(str(err))
    if problems:
        raise ManualScoreError(f"{path}:\n" + "\n".join(problems))
    return scores


def _score(line: int, row: Mapping[str, str | None]) -> ManualScore:
    student, part = (row["student"] or "").strip(), (row["part"] or "").strip()
    text = (row["points"] or "").strip()
    try:
        points = float(text)
    except ValueError:
        points = math.nan
    if not student or not part or not math.isfinite(points):
        raise ManualScoreError(
            f"line {line}: needs a student, a part and a number of points, got "
            f"student={student!r} part={part!r} points={text!r}"
        )
    return ManualScore(line, student, part, points, (row.get("comment") or "").strip())


def merge_scores(
    out: Path, scores: Iterable[ManualScore]
) -> tuple[list[GradeRecord], list[GradeRecord]]:
    """Apply `scores` to OUT's records, write the changed ones atomically with their
    reports, and regenerate the class files; (changed records, all records as written).

    The one path by which a TA's points reach OUT: `merge-manual` and the review desk
    both come here. Nothing is written unless every score is valid. Only the changed
    students' reports are rendered again: the others do not depend on them, and a
    desk save must not re-render the whole class.
    """
    changed = apply_manual(load_records(out), scores)
    for record in changed:
        write_student_outputs(out, record)
    records = load_records(out)
    write_class_outputs(out, records, load_similarity(out))
    return changed, records


def apply_manual(
    records: Iterable[GradeRecord], scores: Iterable[ManualScore]
) -> list[GradeRecord]:
    """The records changed by `scores` (all rows valid) or ManualScoreError listing every bad row."""
    by_student = {r.student: r for r in records}
    problems, seen = [], {}
    changed: dict[str, GradeRecord] = {}
    for score in scores:
        key = (score.student, score.part)
        if key in seen:
            problems.append(
                f"line {score.line}: {score.student} {score.part} already on line {seen[key]}"
            )
            continue
        seen[key] = score.line
        record = changed.get(score.student) or by_student.get(score.student)
        if record is None:
            problems.append(
                f"line {score.line}: no graded student {score.student!r} in this folder"
            )
            continue
        try:
            changed[score.student] = _apply(record, score)
        except ManualScoreError as err:
            problems.append(str(err))
    if problems:
        raise ManualScoreError("\n".join(problems))
    return list(changed.values())


def _apply(record: GradeRecord, score: ManualScore) -> GradeRecord:
    index = next((i for i, r in enumerate(record.results) if r.part == score.part), None)
    where = f"line {score.line} ({score.student}, part {score.part})"
    if index is None:
        parts = ", ".join(r.part for r in record.results) or "none"
        raise ManualScoreError(f"{where}: no such part for this student; parts: {parts}")
    result = record.results[index]
    if result.status != PartStatus.MANUAL and REVIEW_KEY not in result.details:
        raise ManualScoreError(
            f"{where}: part is auto-graded (status {result.status}); only manual-review parts "
            "take a TA's points"
        )
    if not 0 <= score.points <= result.max_points:
        raise ManualScoreError(
            f"{where}: {score.points:g} points is outside 0..{result.max_points:g} for this part"
        )
    results = list(record.results)
    results[index] = reviewed(result, score)
    return replace(record, results=results)


def reviewed(result: CheckResult, score: ManualScore) -> CheckResult:
    if score.points == result.max_points:
        status = PartStatus.PASSED
    else:
        status = PartStatus.PARTIAL if score.points > 0 else PartStatus.FAILED
    review = {"points": score.points, "comment": score.comment}
    given = (("ta", score.ta), ("at", score.at), ("rubric", list(score.rubric)))
    review |= {key: value for key, value in given if value}
    return replace(
        result,
        points=score.points,
        status=status,
        message=f"graded by a TA: {score.comment}" if score.comment else "graded by a TA",
        details={**result.details, REVIEW_KEY: review},
    )
