"""The shipped examples graded at full size, as a TA grades them (no --quick).

tests/test_examples.py grades every example in quick mode. Full size is what
the TA's grades come from, and it takes other code paths: the full-size
problem-4 accuracy band, the full-size problem-5 training gate, and the spring
"reported accuracy" part that quick mode skips. This test runs one
`dlgrade grade` over both full-marks submissions and one mistake per
notebook problem. Each mistake folder holds only its problem's notebook (plus
the answers file), so the problems it does not touch cost no training.
"""

from __future__ import annotations

import json
import shutil

import pytest
from test_examples import SUBMISSIONS, auto_maximum, points

from dlgrade.cli import main
from dlgrade.records import GradeRecord

pytestmark = pytest.mark.slow

FULL_MARKS = ("fall2023-full-marks", "spring2023-full-marks")
# mistake example -> (the notebook kept, {part: (points lost, words its message must hold)})
MISTAKES: dict[str, tuple[str, dict[str, tuple[float, str]]]] = {
    "fall2023-misread-dataset2": ("HW1P3.ipynb", {"3a-2": (4, "after x = 5 the slope is 0.5")}),
    "fall2023-logits-as-probs": ("hw1p4.ipynb", {"4-probs": (5, "logits")}),
    "fall2023-loss-vs-prediction": (
        "dlf23_hw1_prob5.ipynb",
        {
            "5-q3": (14, "one-hot of the predicted class instead of the label"),
            # the full-size gate: 50 % after 3 epochs (quick mode asks for 30 %)
            "5-q4": (4, "expected at least 50%"),
        },
    ),
}
PROBLEM_OF = {"HW1P3.ipynb": "3", "hw1p4.ipynb": "4", "dlf23_hw1_prob5.ipynb": "5"}


def notebook_problem(part: str) -> str | None:
    """The problem whose notebook a part is graded from; None for parts of answers.toml."""
    return part[0] if part.startswith("3a") or part[0] in "45" else None


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeRecord]:
    root = tmp_path_factory.mktemp("examples-full")
    for example in FULL_MARKS:
        shutil.copytree(SUBMISSIONS / example, root / example)
    for example, (notebook, _) in MISTAKES.items():
        (root / example).mkdir()
        for name in (notebook, "answers.toml"):
            shutil.copy(SUBMISSIONS / example / name, root / example / name)
    out = root.parent / "examples-full-out"
    assert main(["grade", str(root), "--out", str(out), "--jobs", "2", "--no-progress"]) == 0
    grades = json.loads((out / "grades.json").read_text())
    return {g["student"]: GradeRecord.from_dict(g) for g in grades}


def test_every_example_is_graded_at_full_size(graded):
    assert sorted(graded) == sorted([*FULL_MARKS, *MISTAKES])
    for record in graded.values():
        assert record.status == "graded" and not record.quick
        for result in record.results:
            texts = [result.message, *map(str, result.details.values())]
            assert not any("quick mode" in text for text in texts), (result.part, texts)


def test_fall_full_marks_scores_every_auto_part(graded):
    record = graded["fall2023-full-marks"]
    expected = auto_maximum("fall2023")
    assert {k: v for k, v in points(record).items() if k in expected} == expected


def test_spring_full_marks_scores_every_auto_part_with_the_reported_accuracy(graded):
    record = graded["spring2023-full-marks"]
    expected = auto_maximum("spring2023")
    assert "4-reported" in expected  # judged at full size, unlike quick mode
    assert {k: v for k, v in points(record).items() if k in expected} == expected
    reported = next(r for r in record.results if r.part == "4-reported")
    assert reported.status == "passed"
    assert "reported 87.28 %, measured" in reported.details["found"]


@pytest.mark.parametrize("example", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded, example):
    notebook, mistakes = MISTAKES[example]
    problem = PROBLEM_OF[notebook]
    full = points(graded["fall2023-full-marks"])
    record = graded[example]
    found = points(record)
    # theory parts and the kept notebook's problem: only the mistake costs points
    kept = [part for part in full if notebook_problem(part) in (None, problem)]
    losses = {part: full[part] - found[part] for part in kept if found[part] != full[part]}
    assert losses == {part: lost for part, (lost, _) in mistakes.items()}
    messages = {r.part: r.message for r in record.results}
    for part, (_, words) in mistakes.items():
        assert words in messages[part], f"{example} {part}: {messages[part]!r}"
    # the problems whose notebooks were left out score nothing, and say why
    left_out = [r for r in record.results if notebook_problem(r.part) not in (None, problem)]
    assert left_out and all(r.points == 0 for r in left_out)
    assert all("no notebook for problem" in r.message for r in left_out if r.status != "manual")
