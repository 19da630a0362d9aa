"""Files found by what they are, whatever name an LMS gave a resubmission (dlgrade.engine.resubmissions)."""

from __future__ import annotations

import pytest
from test_checks_sources import solved_starter

from checks.sources import choose
from dlgrade.engine import discover
from dlgrade.engine.resubmissions import LmsName, find_answers, lms_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("answers.toml", LmsName("answers.toml", 0)),
        ("answers-1.toml", LmsName("answers.toml", 1)),
        ("hw1p5-12.ipynb", LmsName("hw1p5.ipynb", 12)),
        ("answers (2).toml", LmsName("answers.toml", 2)),
        ("LATE_answers-3.toml", LmsName("answers.toml", 3)),
        ("hw1p4.ipynb", LmsName("hw1p4.ipynb", 0)),
        ("-1.toml", LmsName("-1.toml", 0)),  # nothing before the number: not a renaming
    ],
)
def test_lms_names_are_undone(name, expected):
    assert lms_name(name) == expected


def test_a_renamed_answers_file_is_found(tmp_path):
    (tmp_path / "answers-1.toml").write_text('assignment = "spring2023"\n')
    assert discover(tmp_path).answers == tmp_path / "answers-1.toml"
    assert find_answers(tmp_path).note == ""


def test_the_newest_answers_file_wins_and_the_note_names_the_others(tmp_path):
    for name in ("answers.toml", "answers-2.toml", "Answers-1.toml", "old/answers-9.toml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    found = find_answers(tmp_path)
    assert found.path == tmp_path / "answers-2.toml"
    assert found.note == (
        "graded answers-2.toml; set aside: "
        "Answers-1.toml is an older hand-in (the LMS numbers each new one); "
        "answers.toml is an older hand-in (the LMS numbers each new one); "
        "old/answers-9.toml is in a sub-folder"
    )


def test_the_newest_notebook_hand_in_wins_over_a_more_complete_older_one(tmp_path):
    solved_starter(tmp_path / "hw1_prob5.ipynb", outputs=True)  # ran: would win on completeness
    solved_starter(tmp_path / "hw1_prob5-2.ipynb")
    solved_starter(tmp_path / "hw1_prob5-1.ipynb", outputs=True)
    choice = choose("p5", list(discover(tmp_path).for_problem("p5")))
    assert choice.chosen.path.name == "hw1_prob5-2.ipynb"
    assert "hw1_prob5-1.ipynb is an older hand-in of hw1_prob5-2.ipynb" in choice.note
    assert "hw1_prob5.ipynb is an older hand-in of hw1_prob5-2.ipynb" in choice.note
