"""What `dlgrade grade` reports about a graded class: the summary it prints, and a part the
harness failed on counted, flagged and left out of the mean everywhere it shows.

Submissions are graded by the stand-in checks (tests/batch_standin.py), as in
tests/test_batch_grade.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.grading.batch import BatchOutcome
from dlgrade.grading.batch_summary import summary_lines
from dlgrade.records import CheckResult, GradeRecord


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def test_summary_is_three_lines_then_the_class_report(tmp_path):
    def record(student: str, q3: float) -> GradeRecord:
        results = [
            CheckResult("4-arch", "architecture", 6.0, 6.0, "passed"),
            CheckResult("5-q3", "gradients", q3, 14.0, "passed" if q3 else "failed"),
            CheckResult("2c", "reflection", 0.0, 4.0, "manual"),
            # not judged in quick mode: neither a failure nor the hardest part
            CheckResult("4-reported", "reported accuracy", 0.0, 2.0, "skipped"),
        ]
        return GradeRecord(student, "spring2023", results, quick=True)

    records = [record("alice", 0.0), record("bob", 14.0), GradeRecord("carol", "", [], "error")]
    outcome = BatchOutcome(records, ["carol"], ["alice", "bob"], wall_s=12.34, similarity=None)
    assert summary_lines(outcome, tmp_path) == [
        f"graded 1 submission(s) in 12.3 s, 2 already graded in {tmp_path} (--force regrades); "
        "quick mode: trained on data slices, indicative only (drop --quick for real grades)",
        # percent of the graded parts: 6/24 and 20/24 (the skipped part is not graded)
        "scores: mean 54.2 %, lowest 25.0 % (alice), highest 83.3 % (bob); "
        "hardest part 5-q3 (passed by 1 of 2)",
        "to look at: 1 grading error(s) (carol: see their report.html; this is a bug in dlgrade, "
        "not the student's mistake: please report it; after a fix regrade one with dlgrade grade "
        "DIR --out OUT --force --only NAME), 2 part(s) awaiting a TA (dlgrade merge-manual), "
        "0 pair(s) of similar code",
        f"class report: {tmp_path / 'index.html'}",
    ]


HARNESS_ERROR = (
    "harness error (KeyError: 'w0'); this is a bug in dlgrade, not the student's mistake: "
    "please report it (traceback in the grading log)"
)


def test_a_harness_error_in_one_part_is_counted_flagged_and_left_out_of_the_mean(
    tmp_path, checks, capsys
):
    root = tmp_path / "class"
    write_submission(root, "alice", score=1.0)
    write_submission(root, "erin", score=1.0, verdicts={"5-q2": ["error", HARNESS_ERROR]})
    out = tmp_path / "out"
    argv = ["grade", str(root), "--out", str(out), "--checks", str(checks), "--no-similarity"]
    assert main([*argv, "--jobs", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    # Both lose only the pending manual 2c (4 points): alice 30/34 = 88.2 %, erin 20/24 =
    # 83.3 % with the errored 10-point part left out (not 20/34 = 58.8 %), mean 85.8 %.
    assert "scores: mean 85.8 %, lowest 83.3 % (erin), highest 88.2 % (alice)" in printed
    assert (
        "to look at: 1 grading error(s) (erin: see their report.html; this is a bug in "
        "dlgrade, not the student's mistake: please report it; after a fix regrade one with "
        "dlgrade grade DIR --out OUT --force --only NAME)"
    ) in printed
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (rows["erin"]["errors"], rows["erin"]["5-q2"], rows["alice"]["errors"]) == (
        "1",
        "0.0",
        "0",
    )
    index = (out / "index.html").read_text()
    assert 'id="error-count">1<' in index
    assert (
        "harness error in 5-q2 (this is a bug in dlgrade, not the student&#39;s mistake: please "
        "report it; after a fix: dlgrade grade DIR --out OUT --force --only erin)"
    ) in index
    assert ">85.8 %<" in index  # the class mean
    gradescope = json.loads((out / "erin" / "results.json").read_text())
    q2 = next(t for t in gradescope["tests"] if t["name"].startswith("5-q2"))
    assert q2["status"] == "failed" and q2["name"].endswith("(grader error)")
    assert q2["output"].startswith("The grader itself failed on this part; this is not your fault")
    assert HARNESS_ERROR in q2["output"]
