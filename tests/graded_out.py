"""What `dlgrade grade` leaves in OUT, read back as records for the tests to judge.

Not collected by pytest (no `test_` prefix); test modules import it.
"""

from __future__ import annotations

import json
from pathlib import Path

from dlgrade.records import GradeRecord


def grade_in(out: Path, student: str) -> GradeRecord:
    """The record that grading wrote to OUT/<student>/grade.json."""
    return GradeRecord.from_dict(json.loads((out / student / "grade.json").read_text()))
