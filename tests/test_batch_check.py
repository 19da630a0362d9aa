"""`dlgrade check PATH`: the student's self-check (visible checks, table, report, exit code)."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.grading.terminal import results_table
from dlgrade.records import CheckResult, GradeRecord


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def _check(path: Path, checks: Path, *extra: str) -> int:
    return main(["check", str(path), "--checks", str(checks), *extra])


def test_passing_submission_exits_zero_with_table_and_report(tmp_path, checks, capsys):
    folder = write_submission(tmp_path, "me", score=1.0)
    assert _check(folder, checks) == 0
    out = capsys.readouterr().out
    assert "all visible auto-graded checks pass" in out
    table = out[out.index("part  ") :]
    assert "4-arch" in table and "6/6" in table and "passed" in table
    assert "5-q4" not in out  # hidden: a self-check runs --visible-only
    assert "1 part(s) are graded by a TA later" in out
    report = folder / ".dlgrade" / "report.html"
    html = report.read_text()
    assert "me" in html and "class report" not in html  # no link back to a class page


def test_lost_points_exit_one_and_junit_and_report_paths_are_honoured(tmp_path, checks, capsys):
    folder = write_submission(tmp_path, "me", score=0.5)
    junit, report = tmp_path / "ci" / "junit.xml", tmp_path / "ci" / "report.html"
    code = _check(folder, checks, "--quick", "--junit", str(junit), "--report", str(report))
    assert code == 1
    out = capsys.readouterr().out
    assert "NOT PASSING: 4-curves, 5-q2" in out
    assert "PARTIAL" in out and "quick mode" in out
    assert "<testsuite" in junit.read_text()
    assert "Quick mode" in report.read_text()


def test_checks_that_cannot_run_exit_two(tmp_path, checks, capsys):
    folder = write_submission(tmp_path, "me", exit=3)
    assert _check(folder, checks) == 2
    out = capsys.readouterr().out
    assert "GRADING ERROR" in out and "exited with code 3" in out


def test_missing_folder_is_a_usage_error(tmp_path, checks, capsys):
    assert _check(tmp_path / "nope", checks) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_folder_with_nothing_to_check_is_a_usage_error(tmp_path, checks, capsys):
    folder = tmp_path / "downloads"
    (folder / "data").mkdir(parents=True)
    (folder / "notes.txt").write_text("the notebooks are in another folder")
    (folder / "data" / "train.csv").write_text("x,y\n1,2\n")
    assert _check(folder, checks) == 2
    captured = capsys.readouterr()
    assert f"nothing to check in {folder}: expected notebooks or answers.toml" in captured.err
    assert "part" not in captured.out and "total" not in captured.out  # no table of zeros
    assert not (folder / ".dlgrade").exists()


def test_table_aligns_columns_and_cuts_long_messages():
    record = GradeRecord(
        "me",
        "fall2023",
        [
            CheckResult("3c", "forward", 4.0, 4.0, "passed", "f(2) = -3"),
            CheckResult("5-q3", "gradients", 2.5, 10.0, "partial", "x" * 200 + "\nsecond line"),
        ],
    )
    lines = results_table(record, width=60).splitlines()
    assert lines[0].split() == ["part", "points", "status", "message"]
    assert set(lines[1]) == {"-"}
    assert lines[2].index("4/4") + 3 == lines[3].index("2.5/10") + 6  # right-aligned points
    assert lines[3].endswith("…") and len(lines[3]) <= 60
    assert "second line" not in "\n".join(lines)
