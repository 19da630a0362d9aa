"""A gradebook CSV Canvas imports (Grades > Import): one assignment column of totals.

Canvas matches each row to a student by `ID` (its user id), else `SIS User
ID`, else `SIS Login ID`, else the `Student` name, and needs the `Section`
column to exist. The assignment column is named as in Canvas's own export,
"HW1 (123)", where 123 is the assignment id; a blank cell changes nothing.

Identities come from the LMS export the class was read from (a Canvas
download gives the Canvas user id; a Gradescope export the SID and email).
Given Canvas's own gradebook export (`gradebook`), rows are matched against it
and its identity columns are copied, which is the most reliable import.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlgrade.records import GradeRecord, Identity

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_COLUMN = re.compile(r".+\(\d+\)\s*$")


class CanvasExportError(ValueError):
    """The Canvas CSV cannot be written as asked (bad column name, unreadable gradebook)."""


@dataclass(frozen=True)
class CanvasCsv:
    columns: tuple[str, ...]
    rows: list[dict]
    warnings: list[str]


def check_column(name: str) -> str:
    if not _COLUMN.match(name):
        raise CanvasExportError(
            f"--assignment-column {name!r}: Canvas names assignment columns 'Title (id)', e.g. "
            "'HW1 (123)'; copy the header from Canvas's gradebook export"
        )
    return name.strip()


def gradebook_csv(
    records: Sequence[GradeRecord], column: str, gradebook: Path | None = None
) -> CanvasCsv:
    """The import file for `records`' totals under `column` (matched to `gradebook` if given)."""
    column = check_column(column)
    roster = read_gradebook(gradebook) if gradebook else None
    rows, warnings = [], []
    for record in records:
        if record.status == "error":
            warnings.append(f"{record.student}: grading error, left out (regrade with --only)")
            continue
        pending = [r.part for r in record.results if r.status == "manual"]
        if pending:
            warnings.append(
                f"{record.student}: {', '.join(pending)} await TA review and count 0 "
                "(merge them first with dlgrade merge-manual)"
            )
        people = record.identities or [Identity(name=record.student)]
        for person in people:
            row = _matched_row(person, roster) if roster is not None else _own_row(person)
            if row is None:
                warnings.append(
                    f"{record.student}: {person.name or person.id or person.email!r} is not in the "
                    "Canvas gradebook given; left out"
                )
                continue
            if roster is None and not (row["ID"] or row["SIS User ID"] or row["SIS Login ID"]):
                warnings.append(
                    f"{record.student}: no Canvas id known; Canvas must match by the name "
                    f"{row['Student']!r} (pass --gradebook to match reliably)"
                )
            rows.append({**row, column: f"{record.total:g}"})
    return CanvasCsv((*IDENTITY_COLUMNS, column), rows, warnings)


def _own_row(person: Identity) -> dict:
    return {
        "Student": person.name,
        "ID": person.id if person.lms == "canvas" else "",
        # Gradescope's SID is the institution's student number, which Canvas calls the SIS id.
        "SIS User ID": person.id if person.lms == "gradescope" else "",
        "SIS Login ID": person.email,
        "Section": "",
    }


def read_gradebook(path: Path) -> list[dict]:
    """Identity columns of Canvas's gradebook export (its 'Points Possible' row skipped)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("Student", "ID") if c not in (reader.fieldnames or [])]
            if missing:
                raise CanvasExportError(
                    f"{path}: no column(s) {', '.join(missing)}; expected Canvas's gradebook export "
                    "(Grades > Export > Export Entire Gradebook)"
                )
            rows = [
                {c: (row.get(c) or "").strip() for c in IDENTITY_COLUMNS}
                for row in reader
                if (row.get("Student") or "").strip() not in ("Points Possible", "Student, Test")
            ]
    except OSError as err:
        raise CanvasExportError(f"cannot read the Canvas gradebook {path}: {err}") from err
    return [r for r in rows if r["Student"] or r["ID"]]


def _matched_row(person: Identity, roster: Iterable[dict]) -> dict | None:
    """The gradebook row for `person`: by Canvas id, SIS id, login/email, then name."""
    roster = list(roster)
    tests = [
        lambda r: person.lms == "canvas" and person.id and r["ID"] == person.id,
        lambda r: person.id and r["SIS User ID"] == person.id,
        lambda r: person.email and r["SIS Login ID"].lower() in _logins(person.email),
        lambda r: person.name and _name_key(r["Student"]) == _name_key(person.name),
    ]
    for test in tests:
        found = [r for r in roster if test(r)]
        if len(found) == 1:
            return dict(found[0])
    return None


def _logins(email: str) -> set[str]:
    email = email.lower()
    return {email, email.split("@")[0]}


def _name_key(name: str) -> str:
    """Order-free letters of a name: "Lovelace, Ada", "Ada Lovelace" and "lovelaceada" agree."""
    return "".join(sorted(re.sub(r"[^a-z]", "", name.lower())))
