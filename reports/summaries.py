"""Class-level tables built with pandas from grade records: the CSV and the index page.

Only `dlgrade.records` goes in; DataFrames come out. The CSV columns are a
contract for TAs' spreadsheets: `student`, one column per part id (points),
`total`, `max`, `percent`, `status`, `pending_manual`, `errors` (parts the
harness failed on), `duration_s`, `student_compute_s`; then, when the class came
from an LMS export that names students, `id`, `name`, `email` (group members
joined with "; ") and `late`.

Three kinds of lost points are kept apart: the student's (failed, malformed,
timeout, interfered), the harness's (error: left out of every mean and pass
rate, flagged, counted), and pending manual review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dlgrade.records import (
    NOT_GRADED,
    PLEASE_REPORT,
    STUDENT_FAULTS,
    GradeRecord,
    PartStatus,
    rerun_hint,
)
from reports.similarity import SimilarityReport
from reports.views import first_line, percent

FIXED_COLUMNS = ("total", "max", "percent", "status", "pending_manual", "errors")
TIME_COLUMNS = ("duration_s", "student_compute_s")
IDENTITY_COLUMNS = ("id", "name", "email", "late")


@dataclass(frozen=True)
class Flag:
    """A submission a TA should look at, with every reason found."""

    student: str
    reasons: tuple[str, ...]


def summary_status(record: GradeRecord) -> str:
    """`error` (grading broke), `needs-review` (manual parts pending) or `graded`."""
    if record.status == "error":
        return "error"
    if any(r.status == PartStatus.MANUAL for r in record.results):
        return "needs-review"
    return "graded"


@dataclass(frozen=True)
class ClassCounts:
    """How many of what, for the class page; each kind of lost points apart."""

    submissions: int
    error_records: int  # whole grading runs that failed
    error_parts: int  # parts the harness failed on, in otherwise graded records
    error_students: int  # submissions with any harness error
    pending: int  # submissions with parts awaiting manual review
    student_faults: dict[str, int]  # failed/malformed/timeout/interfered -> parts


def class_counts(records: Sequence[GradeRecord]) -> ClassCounts:
    statuses = [r.status for record in records for r in record.results]
    return ClassCounts(
        submissions=len(records),
        error_records=sum(r.status == "error" for r in records),
        error_parts=statuses.count(PartStatus.ERROR),
        error_students=sum(r.status == "error" or bool(r.harness_errors) for r in records),
        pending=sum(summary_status(r) == "needs-review" for r in records),
        student_faults={
            str(s): statuses.count(s) for s in PartStatus if s in STUDENT_FAULTS and s in statuses
        },
    )


def graded_percents(records: Sequence[GradeRecord]) -> list[float]:
    """Each student's percent on the parts that hold a grade (harness errors left out)."""
    return [p for p in (r.graded_percent() for r in records) if p is not None]


def part_order(records: Sequence[GradeRecord]) -> list[str]:
    """Part ids in the order the checks reported them (first appearance wins)."""
    seen: dict[str, None] = {}
    for record in records:
        for result in record.results:
            seen.setdefault(result.part, None)
    return list(seen)


def grades_frame(records: Sequence[GradeRecord]) -> pd.DataFrame:
    """One row per student: points per part, totals, status and timing."""
    parts = part_order(records)
    rows = []
    for record in records:
        points: dict[str, float] = {}
        for result in record.results:
            points[result.part] = points.get(result.part, 0.0) + result.points
        rows.append(
            {
                "student": record.student,
                **{part: points.get(part) for part in parts},
                "total": record.total,
                "max": record.max_total,
                "percent": percent(record.total, record.max_total),
                "status": summary_status(record),
                "pending_manual": sum(r.status == PartStatus.MANUAL for r in record.results),
                "errors": len(record.harness_errors),
                "duration_s": round(record.duration_s, 2),
                "student_compute_s": round(record.student_compute_s, 2),
                **identity_cells(record),
            }
        )
    columns = ["student", *parts, *FIXED_COLUMNS, *TIME_COLUMNS]
    # Appended, so spreadsheets reading the older columns by position keep working.
    if any(r.identities for r in records):
        columns += IDENTITY_COLUMNS
    return pd.DataFrame(rows, columns=columns).sort_values("student", ignore_index=True)


def identity_cells(record: GradeRecord) -> dict[str, str | bool]:
    """id, name, email of the submitters ("; " between group members) and the late flag."""
    people = record.identities
    return {
        "id": "; ".join(p.id for p in people if p.id),
        "name": "; ".join(p.name for p in people if p.name),
        "email": "; ".join(p.email for p in people if p.email),
        "late": record.late,
    }


def part_stats(records: Sequence[GradeRecord]) -> pd.DataFrame:
    """Per part: how many passed and the mean score, hardest part first.

    Parts with no grade (awaiting manual review, skipped, or a harness error)
    are left out of the pass rate and the mean, and counted in `pending` and
    `errors`. Only parts whose verdicts are all in are ranked, hardest first;
    after them come the parts no submission was graded on (skipped in quick
    mode, say), then the parts still awaiting a TA for someone: their few
    automatic verdicts (a missing notebook) say nothing about how hard they are.
    """
    rows = [
        {
            "part": r.part,
            "name": r.name,
            "max_points": r.max_points,
            "points": r.points,
            "passed": r.status == PartStatus.PASSED,
            "pending": r.status == PartStatus.MANUAL,
            "error": r.status == PartStatus.ERROR,
            "ungraded": r.status in NOT_GRADED,
        }
        for record in records
        if record.status != "error"
        for r in record.results
    ]
    columns = [
        "part", "name", "max_points", "graded", "passed", "pending", "errors", "pass_rate",
        "mean_percent",
    ]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    graded = frame[~frame["ungraded"]]
    stats = frame.groupby("part", sort=False).agg(
        name=("name", "first"),
        max_points=("max_points", "max"),
        pending=("pending", "sum"),
        errors=("error", "sum"),
    )
    by_part = graded.groupby("part", sort=False)
    stats["graded"] = by_part.size().reindex(stats.index).fillna(0).astype(int)
    stats["passed"] = by_part["passed"].sum().reindex(stats.index).fillna(0).astype(int)
    stats["pass_rate"] = (100 * by_part["passed"].mean()).reindex(stats.index).round(1)
    mean_fraction = by_part["points"].sum() / by_part["max_points"].sum()
    stats["mean_percent"] = (100 * mean_fraction).reindex(stats.index).round(1)
    stats = stats.reset_index()[columns]
    order = stats.assign(awaiting=stats["pending"] > 0).sort_values(
        ["awaiting", "pass_rate", "mean_percent"], na_position="last", kind="stable"
    )
    return stats.loc[order.index].reset_index(drop=True)


def hardest_part(records: Sequence[GradeRecord]) -> tuple[str, int, int] | None:
    """(part, passed, graded) for the part ranked hardest, or None when none is ranked."""
    stats = part_stats(records)
    ranked = stats[(stats["pending"] == 0) & (stats["graded"] > 0)]
    if ranked.empty:
        return None
    first = ranked.iloc[0]
    return str(first["part"]), int(first["passed"]), int(first["graded"])


def flags(records: Sequence[GradeRecord], similarity: SimilarityReport | None = None) -> list[Flag]:
    """Submissions needing attention: harness errors, serious observations, similarity."""
    similar = similarity.partners() if similarity else {}
    skipped: dict[str, list[str]] = {}
    for student, why in similarity.not_compared if similarity else ():
        skipped.setdefault(student, []).append(why)
    found = []
    for record in sorted(records, key=lambda r: r.student):
        reasons = [
            f"{o.kind} in {o.source}: {first_line(o.message)}"
            for o in record.observations
            if o.kind.serious
        ]
        if record.status == "error" and not reasons:
            reasons.append("grading error")
        reasons += _harness_error_reasons(record)
        if record.student in similar:
            reasons.append("similar code to " + ", ".join(sorted(similar[record.student])))
        reasons += [f"similarity: {why}" for why in skipped.get(record.student, [])]
        if reasons:
            found.append(Flag(record.student, tuple(reasons)))
    return found


def _harness_error_reasons(record: GradeRecord) -> list[str]:
    errors = record.harness_errors
    if not errors:
        return []
    parts = ", ".join(r.part for r in errors)
    return [
        f"harness error in {parts} ({PLEASE_REPORT}; after a fix: {rerun_hint(record.student)})"
    ]


def timing_frame(records: Sequence[GradeRecord]) -> pd.DataFrame:
    """Grading time per submission, slowest first, split into student compute and overhead."""
    frame = pd.DataFrame(
        [
            {
                "student": r.student,
                "duration_s": round(r.duration_s, 1),
                "student_compute_s": round(r.student_compute_s, 1),
                "overhead_s": round(max(r.duration_s - r.student_compute_s, 0.0), 1),
            }
            for r in records
        ],
        columns=["student", "duration_s", "student_compute_s", "overhead_s"],
    )
    return frame.sort_values("duration_s", ascending=False, ignore_index=True)


# Left out of the score a self-check is judged by (`dlgrade check --fail-under`):
# awaiting a TA, not graded by the grader's choice, broken by the harness. None
# of them says anything about the student's work.
NOT_JUDGED = frozenset({"manual", "skipped", "error"})


def judged_totals(record: GradeRecord) -> tuple[float, float]:
    """(points, max points) over the parts this run judged."""
    judged = [r for r in record.results if r.status not in NOT_JUDGED]
    return (
        round(sum(r.points for r in judged), 4),
        round(sum(r.max_points for r in judged), 4),
    )


def judged_percent(record: GradeRecord) -> float | None:
    """Percentage of the judged parts' points; None when nothing was judged."""
    points, maximum = judged_totals(record)
    return round(100 * points / maximum, 1) if maximum else None
