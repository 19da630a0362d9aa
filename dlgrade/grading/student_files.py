"""One student's files in OUT, derived from the grade record: grade.json, results.json, report.html.

Its own module so that whoever renders a record (the grading child in
`result.collect_files`, a Dask worker, `grading.outputs`, the intake's refused
uploads) imports it without importing the others: `outputs` reads the
launchers' error records, and the launchers render through this module, so
neither imports the other.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import replace

from dlgrade.lms.gradescope import results_json
from dlgrade.records import PLEASE_REPORT, GradeRecord, Observation, ObservationKind
from dlgrade.text import readable
from reports.render import render_plain_student, render_student

GRADE_FILE = "grade.json"


def json_bytes(data: object) -> bytes:
    """UTF-8 JSON; where a name was not UTF-8, ASCII JSON whose `\\udcNN` escapes read back
    as the very same name (so OUT/<student> still matches the student's folder)."""
    try:
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(data, indent=2) + "\n").encode("ascii")


def student_files(record: GradeRecord) -> dict[str, bytes]:
    """The files of OUT/<student>/ derived from the record, by name (grade.json among them).

    A page that cannot be rendered never costs the grade: a plain page is
    written instead, with the traceback in report-error.log and a
    `report-error` observation in grade.json.
    """
    # A report error describes the page last written; this attempt starts afresh.
    kept = [o for o in record.observations if o.kind != ObservationKind.REPORT_ERROR]
    record = replace(record, observations=kept)
    files: dict[str, bytes] = {}
    try:
        page = render_student(record)
    except Exception as err:  # any bug in rendering one record must not stop the batch
        files["report-error.log"] = traceback.format_exc().encode("utf-8")
        record = _with_report_error(record, err)
        page = render_plain_student(record)
    files["results.json"] = json_bytes(results_json(record))
    files["report.html"] = readable(page).encode("utf-8")
    files[GRADE_FILE] = json_bytes(record.to_dict())
    return files


def _with_report_error(record: GradeRecord, err: Exception) -> GradeRecord:
    message = (
        f"the report page could not be rendered ({type(err).__name__}: {err}); a plain page "
        f"was written instead; {PLEASE_REPORT} (traceback in report-error.log)"
    )
    note = Observation("harness", ObservationKind.REPORT_ERROR, message)
    return replace(record, observations=[*record.observations, note])
