"""The record of a student whose upload the intake refused: no grading process, a reason.

An upload that could not be read whole (an encrypted or corrupt zip, a zip
bomb, members that clash or are links) is not graded: grading what is left
would tell the student their files are missing, which is not what happened.
Every part the run would have graded is `malformed` with 0 points and the
intake's reason, and an `upload-refused` observation says the same once, so
the class page flags the student for a TA.
"""

from __future__ import annotations

from pathlib import Path

from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import write_student_files
from dlgrade.grading.student_files import student_files
from dlgrade.records import CheckResult, GradeRecord, Observation, ObservationKind, PartStatus


def refused_record(student: str, reason: str, folder: Path, options: GradeOptions) -> GradeRecord:
    """`student`'s record: each part of the graded edition malformed, saying `reason`."""
    assignment = _assignment(folder, options)
    message = f"your upload could not be read, so it was not graded: {reason}"
    results = [
        CheckResult(
            part.id,
            part.title,
            0.0,
            part.points,
            PartStatus.MALFORMED,
            message,
            part.visibility,
        )
        for part in _parts(assignment, options)
    ]
    note = Observation("upload", ObservationKind.UPLOAD_REFUSED, reason)
    return GradeRecord(student, assignment.id, results, observations=[note], quick=options.quick)


def write_refused(
    out: Path, refused: dict[str, tuple[str, Path]], options: GradeOptions
) -> list[GradeRecord]:
    """Write the records of `refused` ({student: (reason, folder)}) into OUT."""
    records = []
    for student, (reason, folder) in sorted(refused.items()):
        record = refused_record(student, reason, folder, options)
        write_student_files(out, student, student_files(record))
        records.append(record)
    return records


def _assignment(folder: Path, options: GradeOptions):
    """The edition the grading run would have chosen (the default when the files say none)."""
    from dlgrade.grading.selection import DEFAULT_ASSIGNMENT, choose_assignment
    from reference.assignments import ManifestError, load_assignment

    stated = folder if folder.is_dir() else None
    name, _ = choose_assignment(options.assignment, stated)
    try:
        return load_assignment(name)
    except ManifestError:  # the student's files named an edition that does not exist
        return load_assignment(options.assignment or DEFAULT_ASSIGNMENT)


def _parts(assignment, options: GradeOptions) -> list:
    """The manifest parts left after --problems and --visible-only, as the plugin selects them."""
    from dlgrade.grading.selection import problem_names

    tokens = {p.strip().lower() for p in options.problems if p.strip()}
    return [
        part
        for part in assignment.parts
        if (not tokens or problem_names(part) & tokens)
        and not (options.visible_only and part.visibility != "visible")
    ]
