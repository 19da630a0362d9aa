"""The shipped example submissions, graded for real: the harness's own acceptance test.

One `dlgrade grade submissions --quick` run (real sandboxed kernels, real
data slices, the real checks) grades every example. The full-marks
submissions must score the maximum of every auto-graded part; each mistake
example must lose exactly the points of the parts its mistake touches, with a
message that names the mistake. Quick mode trains on 6000 images, so the
spring "reported accuracy" part is skipped there (it is checked at full size
by the TA's real run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.cli import main
from dlgrade.records import GradeRecord
from reference.assignments import load_assignment

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = REPO / "submissions" / "examples"

# example -> {part: (points lost, words the message must contain)}
MISTAKES: dict[str, dict[str, tuple[float, str]]] = {
    "fall2023-misread-dataset2": {"3a-2": (4, "after x = 5 the slope is 0.5")},
    "fall2023-dsigmoid-twice": {"5-q3": (14, "sigmoid derivative is applied to the activation")},
    "fall2023-update-in-loop": {"5-q3": (14, "updated inside the backward loop")},
    "fall2023-loss-vs-prediction": {
        "5-q3": (14, "one-hot of the predicted class instead of the label"),
        # the network cannot learn from that error signal, so the Q4 gate fails too
        "5-q4": (4, "expected at least 30%"),
    },
    "fall2023-logits-as-probs": {"4-probs": (5, "logits")},
    "fall2023-no-prob-figure": {"4-probs": (5, "no figure shows test images")},
    "fall2023-bad-init-scale": {"5-q1": (6, "weights[1] has standard deviation")},
    "fall2023-syntax-error": {"4-probs": (5, "SyntaxError")},
    "fall2023-untouched-starter": {
        "5-q1": (6, "interface not found"),
        "5-q2": (6, "interface not found"),
        "5-q3": (14, "interface not found"),
        "5-q4": (4, "interface not found"),
    },
    "fall2023-malformed-notebook": {
        part: (points, "hw1p4.ipynb is not valid notebook JSON")
        for part, points in (("4-arch", 5), ("4-acc", 10), ("4-curves", 5), ("4-probs", 5))
    },
    "fall2023-bad-answers": {
        part: (4, "answers.toml could not be parsed: line 10")
        for part in ("1a", "1b", "2a", "2b", "3b", "3c", "3d")
    },
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeRecord]:
    out = tmp_path_factory.mktemp("examples") / "out"
    argv = ["grade", str(SUBMISSIONS), "--out", str(out), "--quick", "--jobs", "2"]
    assert main([*argv, "--no-progress"]) == 0
    grades = json.loads((out / "grades.json").read_text())
    return {g["student"]: GradeRecord.from_dict(g) for g in grades}


def auto_maximum(assignment_id: str, skipped: tuple[str, ...] = ()) -> dict[str, float]:
    parts = load_assignment(assignment_id).parts
    return {p.id: p.points for p in parts if p.grading == "auto" and p.id not in skipped}


def points(record: GradeRecord) -> dict[str, float]:
    return {r.part: r.points for r in record.results}


def test_every_example_is_graded(graded):
    examples = sorted(p.name for p in SUBMISSIONS.iterdir() if p.is_dir() and p.name[0] not in "._")
    assert sorted(graded) == examples
    assert all(record.status == "graded" for record in graded.values())


def test_fall_full_marks_scores_every_auto_part(graded):
    record = graded["fall2023-full-marks"]
    expected = auto_maximum("fall2023")
    assert {k: v for k, v in points(record).items() if k in expected} == expected
    manual = {r.part: r.status for r in record.results if r.part not in expected}
    assert manual == {"2c": "manual", "4-comment": "manual"}
    # bubblewrap is the default mode, and grading refuses to run without it
    assert record.isolation == "bubblewrap"


def test_spring_full_marks_scores_every_auto_part(graded):
    record = graded["spring2023-full-marks"]
    expected = auto_maximum("spring2023", skipped=("4-reported",))
    assert {k: v for k, v in points(record).items() if k in expected} == expected
    reported = next(r for r in record.results if r.part == "4-reported")
    assert reported.status == "skipped" and "quick mode" in reported.message


@pytest.mark.parametrize("example", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded, example):
    full = points(graded["fall2023-full-marks"])
    record = graded[example]
    found = points(record)
    losses = {part: full[part] - found[part] for part in full if found[part] != full[part]}
    expected = {part: lost for part, (lost, _) in MISTAKES[example].items()}
    assert losses == expected
    messages = {r.part: r.message for r in record.results}
    for part, (_, words) in MISTAKES[example].items():
        assert words in messages[part], f"{example} {part}: {messages[part]!r}"


def test_wrong_theory_without_notebooks_reports_each_missing_notebook(graded):
    record = graded["fall2023-wrong-theory"]
    notebook_parts = [r for r in record.results if r.part[0] in "45" and r.status != "manual"]
    assert notebook_parts and all(r.points == 0 for r in notebook_parts)
    assert all("no notebook for problem" in r.message for r in notebook_parts)


def test_examples_are_generated_from_their_sources():
    """The mistake folders are copies of full marks plus one declared edit each; none drifted."""
    done = subprocess.run(
        [sys.executable, str(SUBMISSIONS.parent / "build_examples.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("example", "code"), [("fall2023-full-marks", 0), ("fall2023-dsigmoid-twice", 1)]
)
def test_student_self_check_exit_code(example, code, tmp_path, capsys):
    folder = shutil.copytree(SUBMISSIONS / example, tmp_path / example)  # check writes .dlgrade/
    report = tmp_path / "report.html"
    assert main(["check", str(folder), "--quick", "--report", str(report)]) == code
    table = capsys.readouterr().out
    assert "5-q3" in table
    assert report.read_text().count("5-q3") >= 1
