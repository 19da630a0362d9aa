"""The field corpus (submissions/field): a folder of it graded alone, as a TA would.

Not collected by pytest (no `test_` prefix); test modules import it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dlgrade.cli import main

FIELD = Path(__file__).resolve().parents[1] / "submissions" / "field"


def grade_problem_4(tmp_path: Path, name: str) -> tuple[Path, dict[str, dict]]:
    """`dlgrade grade --quick --problems p4` of the field folder `name` as a class of one.

    Returns OUT and the record's problem-4 results by part.
    """
    students = tmp_path / "class"
    shutil.copytree(FIELD / name, students / name)
    out = tmp_path / "out"
    argv = ["grade", str(students), "--out", str(out), "--quick", "--problems", "p4"]
    assert main([*argv, "--no-progress", "--no-similarity", "--isolation", "none"]) == 0
    (record,) = json.loads((out / "grades.json").read_text())
    return out, {r["part"]: r for r in record["results"] if r["part"].startswith("4-")}
