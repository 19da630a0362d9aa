"""`dlgrade merge-manual OUT manual.csv`: TA points for manual parts, validated row by row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from graded_out import grade_in

from dlgrade.cli import main
from dlgrade.grading.manual import ManualScore, ManualScoreError, apply_manual, read_manual_csv
from dlgrade.grading.outputs import rebuild_reports, write_student_outputs
from dlgrade.records import CheckResult, GradeRecord


def _record(student: str) -> GradeRecord:
    return GradeRecord(
        student,
        "fall2023",
        [
            CheckResult("2b", "closed form?", 4.0, 4.0, "passed", "answer is no"),
            CheckResult(
                "2c", "reflection", 0.0, 4.0, "manual", "awaiting TA review", details={"text": "hi"}
            ),
            CheckResult("4-plots", "probability plots", 0.0, 6.0, "manual", "awaiting TA review"),
        ],
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    for student in ("ann", "ben"):
        write_student_outputs(folder, _record(student))
    rebuild_reports(folder)
    return folder


def _csv(
    path: Path, rows: list[list[str]], header=("student", "part", "points", "comment")
) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_merge_sets_points_status_and_regenerates_everything(out, tmp_path, capsys):
    scores = _csv(
        tmp_path / "m.csv",
        [
            ["ann", "2c", "4", "clear and correct"],
            ["ann", "4-plots", "3", ""],
            ["ben", "2c", "0", ""],
        ],
    )
    assert main(["merge-manual", str(out), str(scores)]) == 0
    ann = {r.part: r for r in grade_in(out, "ann").results}
    assert (ann["2c"].points, ann["2c"].status) == (4.0, "passed")
    assert ann["2c"].message == "graded by a TA: clear and correct"
    assert ann["2c"].details["text"] == "hi"  # the student's text stays for the report
    assert (ann["4-plots"].points, ann["4-plots"].status) == (3.0, "partial")
    assert grade_in(out, "ben").results[1].status == "failed"
    assert "ann,4.0,4.0,3.0,11.0,14.0" in (out / "grades.csv").read_text()
    assert json.loads((out / "ann" / "results.json").read_text())["score"] == 11.0
    assert "graded by a TA: clear and correct" in (out / "ann" / "report.html").read_text()
    assert "1 part(s) still pending" in capsys.readouterr().out  # ben's 4-plots


def test_a_reviewed_part_can_be_corrected(out, tmp_path):
    assert (
        main(["merge-manual", str(out), str(_csv(tmp_path / "a.csv", [["ann", "2c", "2"]]))]) == 0
    )
    assert (
        main(["merge-manual", str(out), str(_csv(tmp_path / "b.csv", [["ann", "2c", "3.5"]]))]) == 0
    )
    assert grade_in(out, "ann").results[1].points == 3.5


def test_bad_rows_are_all_named_and_nothing_is_written(out, tmp_path, capsys):
    before = (out / "ann" / "grade.json").read_text()
    scores = _csv(
        tmp_path / "bad.csv",
        [
            ["ann", "2c", "5", ""],  # above max (line 2)
            ["ann", "2b", "1", ""],  # auto-graded (line 3)
            ["zed", "2c", "1", ""],  # unknown student (line 4)
            ["ann", "4-plots", "2", ""],  # fine, but the whole file is refused
        ],
    )
    assert main(["merge-manual", str(out), str(scores)]) == 2
    err = capsys.readouterr().err
    assert "line 2 (ann, part 2c): 5 points is outside 0..4" in err
    assert "line 3 (ann, part 2b): part is auto-graded" in err
    assert "line 4: no graded student 'zed'" in err
    assert (out / "ann" / "grade.json").read_text() == before


def test_malformed_csv_rows_and_headers(tmp_path):
    with pytest.raises(ManualScoreError, match="missing column"):
        read_manual_csv(_csv(tmp_path / "h.csv", [["ann", "2c"]], header=("student", "part")))
    with pytest.raises(ManualScoreError, match="line 2: needs a student"):
        read_manual_csv(_csv(tmp_path / "p.csv", [["ann", "2c", "four"]]))


def test_duplicate_rows_are_refused():
    scores = [ManualScore(2, "ann", "2c", 1.0), ManualScore(3, "ann", "2c", 2.0)]
    with pytest.raises(ManualScoreError, match="line 3: ann 2c already on line 2"):
        apply_manual([_record("ann")], scores)
