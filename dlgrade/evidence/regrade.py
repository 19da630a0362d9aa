"""Re-judge a graded class from its evidence: a rubric change costs judging, not training.

Each student in OUT that kept evidence (OUT/<student>/evidence/grading.json)
is graded again, the same way and from the same folder, with evidence reuse
on: a notebook whose key still matches is judged from its evidence without a
kernel; the others run again, and `use.json` says why. The record a regrade
replaces is kept as grade.previous.json (dlgrade.grading.jobs.write_unit).

A `manifest` judges the students of its edition (and stays theirs for later
regrades, until another is given); the other edition's keep their own.
What the regrade does not decide stays: a TA's manual scores, the parts not
asked for with `parts`, the LMS identities. A record judged wholly from
evidence keeps the duration and devices of the grading that made the
evidence (they describe that run), so re-judging unchanged evidence with
unchanged checks writes the same record, byte for byte.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade.evidence.settle import settle
from dlgrade.evidence.store import EVIDENCE_DIR, Use, read_grading, read_uses
from dlgrade.grading.jobs import Launcher, run_jobs
from dlgrade.grading.options import GradeOptions, options_from_dict, options_to_dict
from dlgrade.grading.outputs import (
    GRADE_FILE,
    OutputError,
    load_records,
    load_similarity,
    read_record,
    write_class_outputs,
    write_student_outputs,
)
from dlgrade.records import GradeRecord, ObservationKind


class RegradeError(Exception):
    """The regrade cannot start (no such student, no evidence at all, unknown part)."""


@dataclass(frozen=True)
class Settings:
    """What changes in a regrade: checks, manifest, parts re-judged, forced execution."""

    checks_dir: Path | None = None  # None: each student's as graded
    manifest: Path | None = None  # None: the one each student was last graded against
    parts: tuple[str, ...] = ()  # re-judge only these (others keep their verdict)
    rerun: bool = False  # execute every notebook, evidence or not
    jobs: int = 1
    progress: bool = False
    launcher: Launcher = "zygote"


@dataclass(frozen=True)
class Change:
    student: str
    part: str
    old_points: float | None  # None: the part was not in the old record
    new_points: float
    old_status: str
    new_status: str


@dataclass(frozen=True)
class Outcome:
    records: list[GradeRecord]  # the regraded students' new records
    changes: list[Change]
    uses: dict[str, list[Use]]  # student -> how each notebook was had
    skipped: dict[str, str]  # student -> why it was not regraded
    wall_s: float

    @property
    def executed(self) -> list[tuple[str, Use]]:
        return [(s, u) for s, uses in self.uses.items() for u in uses if u.executed]

    @property
    def reused(self) -> int:
        return sum(not u.executed for uses in self.uses.values() for u in uses)


@dataclass(frozen=True)
class _Student:
    name: str
    folder: Path
    options: GradeOptions
    previous: GradeRecord


def regrade(out: Path, settings: Settings, only: str | None = None) -> Outcome:
    started = time.monotonic()
    _manifest_id(settings.manifest)  # a broken file stops the regrade before anything runs
    students, skipped = _students(out, settings, only)
    if not students:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items()) or "no graded students"
        raise RegradeError(f"nothing in {out} can be regraded ({reasons})")
    _check_parts(settings.parts, students)
    for options, group in _by_options(students).items():
        todo = {s.name: s.folder for s in group}
        run_jobs(todo, out, options, settings.jobs, progress=settings.progress,
                 launcher=settings.launcher)  # fmt: skip
    records, changes, uses = [], [], {}
    for student in students:
        uses[student.name] = read_uses(out / student.name / EVIDENCE_DIR)
        executed = any(u.executed for u in uses[student.name])
        written = read_record(out / student.name / GRADE_FILE)
        record = settle(student.previous, written, settings.parts, executed)
        if record.to_dict() != written.to_dict():  # not settled where it was graded (a crash)
            record = write_student_outputs(out, record)
        records.append(record)
        changes += compare(student.previous, records[-1])
    write_class_outputs(out, load_records(out), load_similarity(out))
    return Outcome(records, changes, uses, skipped, time.monotonic() - started)


@functools.cache
def _manifest_id(path: Path | None) -> str | None:
    """The edition a --manifest file grades, once it is known to load (None: no file)."""
    if path is None:
        return None
    from reference.manifest import ManifestError, load_manifest

    try:
        return load_manifest(path).id
    except (ManifestError, OSError, ValueError, KeyError) as err:
        raise RegradeError(f"--manifest {path}: {err}") from err


def _students(
    out: Path, settings: Settings, only: str | None
) -> tuple[list[_Student], dict[str, str]]:
    if not out.is_dir():
        raise RegradeError(f"{out} is not a folder of grades")
    names = sorted(p.parent.name for p in out.glob(f"*/{GRADE_FILE}"))
    if only is not None:
        if only not in names:
            raise RegradeError(f"no graded student named {only!r} in {out}")
        names = [only]
    students, skipped = [], {}
    for name in names:
        found = _student(out, name, settings)
        if isinstance(found, str):
            skipped[name] = found
        else:
            students.append(found)
    return students, skipped


def _student(out: Path, name: str, settings: Settings) -> _Student | str:
    """The student as graded, or why they cannot be regraded from here."""
    try:
        grading = read_grading(out / name / EVIDENCE_DIR)
        options = options_from_dict(grading["options"])
    except (OSError, ValueError, KeyError, TypeError):
        return "graded without evidence (before it was kept): dlgrade grade --force regrades"
    folder = grading.get("submission")
    if not isinstance(folder, str) or not Path(folder).is_dir():
        where = folder if isinstance(folder, str) else "an archive"
        return f"the submission it was graded from ({where}) is not there any more"
    checks_dir = settings.checks_dir or options.checks_dir
    if not checks_dir.is_dir():
        return (
            f"the checks it was graded with ({checks_dir}) are not there any more: "
            "--checks DIR regrades with those in DIR"
        )
    try:
        previous = read_record(out / name / GRADE_FILE)
    except OutputError as err:
        return str(err)
    # A manifest grades its own edition: the other edition's students keep theirs.
    mine = settings.manifest and _manifest_id(settings.manifest) == previous.assignment
    options = replace(
        options,
        checks_dir=checks_dir,
        python=sys.executable,  # this dlgrade judges: the one the regrade was started with
        manifest=str(settings.manifest) if mine else options.manifest,
        evidence="keep" if settings.rerun else "reuse",
        regrade=tuple(settings.parts),
    )
    return _Student(name, Path(folder), options, previous)


def _check_parts(parts: Sequence[str], students: list[_Student]) -> None:
    known = {r.part for s in students for r in s.previous.results}
    unknown = sorted(set(parts) - known)
    if unknown:
        raise RegradeError(
            f"unknown part(s) {', '.join(unknown)}; the records have {', '.join(sorted(known))}"
        )


def _by_options(students: list[_Student]) -> dict[GradeOptions, list[_Student]]:
    groups: dict[str, tuple[GradeOptions, list[_Student]]] = {}
    for student in students:
        key = json.dumps(options_to_dict(student.options), sort_keys=True)
        groups.setdefault(key, (student.options, []))[1].append(student)
    return dict(groups.values())


def compare(previous: GradeRecord, new: GradeRecord) -> list[Change]:
    """The parts whose points or status differ between two records of one student."""
    old = {r.part: r for r in previous.results}
    changes = []
    for result in new.results:
        before = old.get(result.part)
        if before is None or (before.points, before.status) != (result.points, result.status):
            changes.append(
                Change(
                    new.student,
                    result.part,
                    None if before is None else before.points,
                    result.points,
                    "" if before is None else str(before.status),
                    str(result.status),
                )
            )
    return changes


def table(outcome: Outcome) -> list[str]:
    """What changed (student, part, old -> new points) and what ran, for the terminal."""
    executed = outcome.executed
    lines = [
        f"re-judged {len(outcome.records)} student(s) in {outcome.wall_s:.1f} s: "
        f"{outcome.reused} notebook(s) judged from evidence, {len(executed)} re-executed"
    ]
    lines += [f"  re-executed {student}/{use.source}: {use.reason}" for student, use in executed]
    lines += [f"  not regraded {name}: {why}" for name, why in outcome.skipped.items()]
    lines += [
        f"  grading failed for {r.student}: {_first_line(r)}"
        for r in outcome.records
        if r.status == "error"
    ]
    if not outcome.changes:
        return [*lines, "no part changed"]
    width = max(len("student"), *(len(c.student) for c in outcome.changes))
    lines.append(f"{'student':<{width}}  {'part':<10} old -> new points")
    for c in outcome.changes:
        old = "-" if c.old_points is None else f"{c.old_points:g}"
        status = f" ({c.old_status} -> {c.new_status})" if c.old_status != c.new_status else ""
        lines.append(f"{c.student:<{width}}  {c.part:<10} {old} -> {c.new_points:g}{status}")
    return lines


def _first_line(record: GradeRecord) -> str:
    notes = [o.message for o in record.observations if o.kind == ObservationKind.GRADING_ERROR]
    return (notes[0].splitlines() or [""])[0] if notes else "see its report.html"
