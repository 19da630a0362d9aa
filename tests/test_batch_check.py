"""`dlgrade check PATH`: the student's self-check (visible checks, table, report, exit code)."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from checks.offline import NotOnStudentMachine
from dlgrade.cli import main
from dlgrade.grading.terminal import check_summary, results_table
from dlgrade.records import CheckResult, GradeRecord
from dlgrade.student.display import CheckReport


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


def _bundle_record() -> GradeRecord:
    """Full marks as a student's machine sees them: two parts left to the TA."""
    ta = str(NotOnStudentMachine("the reference solution (theory.answers)").msg)
    return GradeRecord(
        "me",
        "fall2023",
        [
            CheckResult("1a", "gradient", 0.0, 3.0, "skipped", ta),
            CheckResult("2c", "explain", 0.0, 4.0, "manual", "awaiting TA review"),
            CheckResult("3a", "fit", 4.0, 4.0, "passed", ""),
            CheckResult("3d", "values", 0.0, 5.0, "skipped", ta),
            CheckResult("5-q3", "gradients", 14.0, 14.0, "passed", ""),
            CheckResult("5-q5", "plot", 0.0, 2.0, "skipped", "not run: --problems"),
        ],
    )


def test_self_check_total_tells_parts_the_ta_checks_apart():
    record = _bundle_record()
    out = check_summary(record)
    assert "\njudged here: 18/20; checked by the TA: 12 points (1a, 2c, 3d)\n" in out
    assert "total 18/32" not in out  # the TA's parts are not counted as lost
    rows = {line.split()[0]: line.split()[1] for line in results_table(record).splitlines()[2:]}
    assert rows == {
        "1a": "-/3", "2c": "0/4", "3a": "4/4", "3d": "-/5", "5-q3": "14/14", "5-q5": "0/2"
    }  # fmt: skip
    assert record.total == 18.0 and record.max_total == 32.0  # the record itself is unchanged


def test_self_check_total_is_plain_when_everything_was_judged_here():
    record = GradeRecord(
        "me",
        "fall2023",
        [
            CheckResult("2c", "explain", 0.0, 4.0, "manual", "awaiting TA review"),
            CheckResult("3a", "fit", 2.0, 4.0, "partial", ""),
        ],
    )  # the TA's own run: graded by hand is still said as before
    assert "\ntotal 2/8; 1 part(s) are graded by a TA later" in check_summary(record)
    assert "judged here" not in check_summary(record)


def test_in_notebook_report_tells_parts_the_ta_checks_apart():
    report = CheckReport(tuple(_bundle_record().results))
    text = str(report)
    assert text.splitlines()[-1] == (
        "2 of 6 part(s) pass; judged here: 18/20; checked by the TA: 12 points (1a, 2c, 3d)"
    )
    assert "-/3" in text.splitlines()[0] and ">-/5<" in report._repr_html_()
    plain = CheckReport(tuple(_bundle_record().results[2:3]))
    assert str(plain).splitlines()[-1] == "1 of 1 part(s) pass; 4/4 points checked here"
