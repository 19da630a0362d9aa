"""A notebook that patches what the probes use cannot change its grade.

Probes run in the student's kernel, on the student's numpy and builtins. The
grade stays honest because the probes only read values out and every
comparison runs in the grader, against `reference/`. These tests grade real
problem-5 notebooks with the real checks (quick mode): the shipped examples
with a last cell from `tests/hostile/` appended.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from dlgrade.cli import main
from dlgrade.records import CheckResult, GradeRecord

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "submissions" / "examples"
HOSTILE = Path(__file__).parent / "hostile"
NOTEBOOK = "dlf23_hw1_prob5.ipynb"
pytestmark = pytest.mark.slow

# student folder -> (example it starts from, hostile cell appended to it)
STUDENTS = {
    # the gradient is wrong (sigmoid derivative applied twice) and every judge agrees
    "wrong-lying-judges": ("fall2023-dsigmoid-twice", "lying_judges.py"),
    # right work with the same patches: they must cost nothing either
    "right-lying-judges": ("fall2023-full-marks", "lying_judges.py"),
    # wrong work, and numpy's array constructors return a fixed array
    "wrong-fixed-arrays": ("fall2023-dsigmoid-twice", "fixed_arrays.py"),
}


def hostile_submission(folder: Path, example: str, cell: str) -> None:
    notebook = nbformat.read(EXAMPLES / example / NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell((HOSTILE / cell).read_text()))
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / NOTEBOOK)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, CheckResult]]:
    root = tmp_path_factory.mktemp("hostile-class")
    for student, (example, cell) in STUDENTS.items():
        hostile_submission(root / student, example, cell)
    out = root.parent / "hostile-out"
    argv = ["grade", str(root), "--out", str(out), "--assignment", "fall2023", "--quick"]
    argv += ["--problems", "p5", "--jobs", "2", "--no-progress", "--no-similarity"]
    assert main(argv) == 0
    records = [GradeRecord.from_dict(g) for g in json.loads((out / "grades.json").read_text())]
    assert {r.student: r.status for r in records} == dict.fromkeys(STUDENTS, "graded")
    return {r.student: {c.part: c for c in r.results if c.part.startswith("5-")} for r in records}


def points(results: dict[str, CheckResult]) -> dict[str, float]:
    return {part: result.points for part, result in results.items()}


def test_lying_judges_do_not_pass_a_wrong_gradient(graded):
    results = graded["wrong-lying-judges"]
    # exactly the grade of the unpatched example (tests/test_examples.py): only Q3 lost
    assert points(results) == {"5-q1": 6, "5-q2": 6, "5-q3": 0, "5-q4": 4}
    assert results["5-q3"].status == "failed"
    assert "sigmoid derivative is applied to the activation" in results["5-q3"].message


def test_lying_judges_cost_right_work_nothing(graded):
    results = graded["right-lying-judges"]
    assert points(results) == {"5-q1": 6, "5-q2": 6, "5-q3": 14, "5-q4": 4}
    assert {r.status for r in results.values()} == {"passed"}


def test_fixed_arrays_from_numpy_pass_nothing_they_touch(graded):
    results = graded["wrong-fixed-arrays"]
    # Q1 and Q4 judge what the watch kept before the patch (the initial weights, the
    # weights after each of the notebook's own epochs) with the grader's numpy; Q2 and Q3
    # call the student's functions on the patched numpy, so nothing they return is right.
    assert points(results) == {"5-q1": 6, "5-q2": 0, "5-q3": 0, "5-q4": 4}
    assert results["5-q1"].status == "passed"
    assert "the notebook's own training" in results["5-q4"].details["found"]


def test_fixed_arrays_from_numpy_are_the_students_doing(graded):
    results = graded["wrong-fixed-arrays"]
    # The student broke the numpy their functions and the probes run on: a failure of
    # theirs (or tampering), never the harness's `error`, which is left out of class means.
    # Every value is validated before it is judged (issue 15), so the failure names it.
    statuses = {results[p].status for p in ("5-q2", "5-q3")}
    assert statuses <= {"failed", "interfered"}, statuses
    assert "'a loss' is an array of shape (2, 2); expected one number" in results["5-q2"].message
    assert "'weights[0]' has shape 2x2; expected 784x32" in results["5-q3"].message
