"""Keep what the intake learnt in OUT: identities in each grade.json, the rest in intake.json.

The grade records come from the checks, which know nothing of LMSs; the
identities (and late flags) of the export are folded in afterwards, so that
`grades.csv` and `dlgrade export` can name each student as the LMS does.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dlgrade.grading.outputs import INTAKE_JSON, grade_path, write_json
from dlgrade.intake.records import ClassInput
from dlgrade.lms.gradescope import results_json
from dlgrade.records import GradeRecord

WORK_DIR = ".intake"  # OUT/.intake: unpacked zips and regrouped Canvas files


def record_intake(out: Path, intake: ClassInput, records: list[GradeRecord]) -> list[GradeRecord]:
    """`records` with the intake's identities; changed grade files are rewritten in OUT."""
    updated = []
    for record in records:
        hand_in = intake.hand_ins.get(record.student)
        if hand_in is not None and (
            record.identities != list(hand_in.identities) or record.late != hand_in.late
        ):
            record = replace(record, identities=list(hand_in.identities), late=hand_in.late)
            write_json(out / record.student / "results.json", results_json(record))
            write_json(grade_path(out, record.student), record.to_dict())
        updated.append(record)
    write_json(out / INTAKE_JSON, intake.summary().to_dict())
    return updated
