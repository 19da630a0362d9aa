"""The field corpus, graded for real in quick mode: every row of EXPECTED.toml must agree.

submissions/field/ holds hand-ins written as different students would write
them, each with the verdict its parts must get, decided from the assignment
(see submissions/field/README.md). One `dlgrade grade --quick` run (real
sandboxed kernels, real data slices) grades them all; each row is its own
test, so a disagreement names the folder, the part and what differs. The
full-mode run is `python benchmarks/field.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlgrade.cli import main
from dlgrade.grading.expected import Row, compare, load_expected
from dlgrade.records import GradeRecord
from reference.assignments import load_assignment

FIELD = Path(__file__).resolve().parents[1] / "submissions" / "field"
KNOWN = {a: [p.id for p in load_assignment(a).parts] for a in ("fall2023", "spring2023")}
ROWS = load_expected(FIELD / "EXPECTED.toml", KNOWN)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeRecord]:
    out = tmp_path_factory.mktemp("field") / "out"
    argv = ["grade", str(FIELD), "--out", str(out), "--quick", "--jobs", "2", "--no-progress"]
    assert main([*argv, "--no-similarity"]) == 0
    grades = json.loads((out / "grades.json").read_text())
    return {g["student"]: GradeRecord.from_dict(g) for g in grades}


def test_the_corpus_is_large_and_every_folder_has_rows():
    folders = sorted(p.name for p in FIELD.iterdir() if p.is_dir() and p.name[0] not in "._")
    assert len(folders) >= 37
    assert sorted({row.folder for row in ROWS}) == folders


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.folder}:{r.part}")
def test_row_agrees_in_quick_mode(graded, row: Row):
    (outcome,) = compare([row], graded, quick=True)
    assert outcome.ok, f"{outcome.why} -- {outcome.text[:500]}"
