"""What `dlgrade grade` is told reaches where it should: the student and the folders it
names, pytest's command line, --retrain.

Submissions are graded by the stand-in checks (tests/batch_standin.py), as in
tests/test_batch_grade.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.grading.batch import grade_class
from dlgrade.grading.batch_errors import BatchError
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.resume import select
from dlgrade.grading.runner import pytest_command
from dlgrade.intake import folders


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def test_unknown_student_and_empty_folder_are_clear_errors(tmp_path, checks):
    write_submission(tmp_path / "class", "alice")
    with pytest.raises(BatchError, match="did you mean alice"):
        select(folders.read(tmp_path / "class").folders(), tmp_path / "out", only="alyce")
    (tmp_path / "empty").mkdir()
    argv = ["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--checks", str(checks)]
    assert main(argv) == 2


def test_pytest_command_matches_the_grading_contract(tmp_path):
    options = GradeOptions(
        checks_dir=tmp_path / "checks",
        assignment="spring2023",
        quick=True,
        retrain=True,
        visible_only=True,
        problems=("p4", "p5"),
    )
    command = pytest_command(options, tmp_path / "s", tmp_path / "r.json", tmp_path / "j.xml")
    text = " ".join(command[1:])
    assert text.startswith(f"-m pytest {tmp_path / 'checks'} --submission {tmp_path / 's'}")
    for expected in (
        f"--results-json {tmp_path / 'r.json'}",
        "-p no:cacheprovider",
        "--assignment spring2023",
        "--quick",
        "--retrain",
        "--visible-only",
        "--problems p4,p5",
        f"--junitxml {tmp_path / 'j.xml'}",
    ):
        assert expected in text


def test_an_out_folder_inside_the_class_folder_is_not_a_student(tmp_path, checks):
    write_submission(tmp_path / "class", "alice", score=1.0)
    out = tmp_path / "class" / "results"
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    first = grade_class(tmp_path / "class", out, options, jobs=1, progress=False)
    again = grade_class(tmp_path / "class", out, options, jobs=1, progress=False)
    assert first.graded == ["alice"] and again.resumed == ["alice"]
    assert [r.student for r in again.records] == ["alice"]


def test_retrain_is_an_option_of_grade_and_check():
    from dlgrade.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["grade", "class", "--out", "o", "--retrain"]).retrain
    assert parser.parse_args(["check", "alice", "--retrain"]).retrain
    assert not parser.parse_args(["check", "alice"]).retrain
