"""The grading plugin: check outcomes become CheckResults and a GradeRecord.

Each test writes a small check module, runs pytest on it in a subprocess with
the plugin (as `pytest checks` would) and reads the results JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlgrade.records import GradeRecord

CHECKS = """
import pytest
from checks.scoring import CheckFailed, PartialCredit, not_graded, prerequisite_failed
from dlgrade.records import PartStatus


@pytest.mark.part(fall2023="1a")
def test_passes():
    pass


@pytest.mark.part(fall2023="1b")
def test_partial():
    raise PartialCredit(0.25, "one of four right")


@pytest.mark.part(fall2023="2a")
def test_fails():
    raise CheckFailed("w: expected d x 1, found 1 x d")


@pytest.mark.part(fall2023="2b")
def test_skips():
    pytest.skip("no notebook for problem 2")


@pytest.mark.part(fall2023="3c")
def test_crashes():
    raise ZeroDivisionError("boom")


@pytest.mark.part(fall2023="2c")
def test_manual(record):
    record.add("text", "my reflection")


@pytest.mark.part(spring2023="3")
def test_other_edition_only():
    raise AssertionError("must not run for fall2023")


@pytest.mark.part(fall2023="3b")
def test_plain_assert():
    # The grader's own assert failing is the grader's bug, never the student's 0.
    expected, found = 3, len("ab")
    assert found == expected, f"arithmetic is broken: expected {expected}, found {found}"


@pytest.mark.part(fall2023="3a-1")
def test_malformed_prerequisite():
    prerequisite_failed("malformed notebook: hw.ipynb is not UTF-8", PartStatus.MALFORMED)


@pytest.mark.part(fall2023="3a-2")
def test_timeout_verdict():
    raise CheckFailed("the notebook ran past its time limit at cell 4", PartStatus.TIMEOUT)


@pytest.mark.part(fall2023="3d")
def test_quick_mode_choice():
    not_graded("quick mode cannot judge this part")


@pytest.fixture
def tampered():
    prerequisite_failed("the notebook interfered with the grader's kernel messages", "interfered")


@pytest.mark.part("4-comment")
def test_manual_part_without_its_notebook(tampered):
    pass


@pytest.mark.part("4-probs")
def test_bare_assertion_error_in_a_fixture_helper():
    raise AssertionError
"""


def _run(tmp_path: Path, checks: str, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    folder = tmp_path / "checks_under_test"
    folder.mkdir(exist_ok=True)
    (folder / "test_sample.py").write_text(textwrap.dedent(checks), encoding="utf-8")
    (folder / "conftest.py").write_text("from checks.conftest import *  # noqa: F403\n")
    output = tmp_path / "out" / "results.json"
    command = [
        sys.executable, "-m", "pytest", str(folder), "-p", "dlgrade.grading.plugin",
        "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "--results-json", str(output),
        *options,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    return run, output


def _submission(tmp_path: Path) -> Path:
    folder = tmp_path / "student-17"
    folder.mkdir()
    return folder


def test_outcomes_map_to_statuses_and_points(tmp_path):
    run, output = _run(
        tmp_path, CHECKS, "--submission", str(_submission(tmp_path)), "--assignment", "fall2023"
    )
    record = GradeRecord.from_dict(json.loads(output.read_text()))
    by_part = {r.part: r for r in record.results}
    assert record.student == "student-17"
    assert record.assignment == "fall2023"
    assert (by_part["1a"].status, by_part["1a"].points, by_part["1a"].max_points) == (
        "passed",
        4,
        4,
    )
    assert (by_part["1b"].status, by_part["1b"].points) == ("partial", 1.0)
    assert by_part["1b"].message == "one of four right"
    assert (by_part["2a"].status, by_part["2a"].points) == ("failed", 0)
    assert by_part["2a"].message == "w: expected d x 1, found 1 x d"
    assert (by_part["2b"].status, by_part["2b"].message) == ("skipped", "no notebook for problem 2")
    assert (by_part["3c"].status, by_part["3c"].points) == ("error", 0)
    assert by_part["3c"].message == (
        "harness error (ZeroDivisionError: boom); this is a bug in dlgrade, not the student's "
        "mistake: please report it (traceback in the grading log)"
    )
    assert "E       ZeroDivisionError: boom" in run.stdout  # the traceback the message promises
    assert (by_part["2c"].status, by_part["2c"].points) == ("manual", 0)
    assert by_part["2c"].details == {"text": "my reflection"}
    assert (by_part["3b"].status, by_part["3b"].points) == ("error", 0)
    assert by_part["3b"].message == (
        "harness error (AssertionError: arithmetic is broken: expected 3, found 2); this is a bug "
        "in dlgrade, not the student's mistake: please report it (traceback in the grading log)"
    )
    assert (by_part["4-probs"].status, by_part["4-probs"].message) == (
        "error",
        "harness error (AssertionError); this is a bug in dlgrade, not the student's mistake: "
        "please report it (traceback in the grading log)",
    )
    assert (by_part["3a-1"].status, by_part["3a-1"].points, by_part["3a-1"].message) == (
        "malformed",
        0,
        "malformed notebook: hw.ipynb is not UTF-8",
    )
    assert (by_part["3a-2"].status, by_part["3a-2"].message) == (
        "timeout",
        "the notebook ran past its time limit at cell 4",
    )
    assert (by_part["3d"].status, by_part["3d"].message) == (
        "skipped",
        "quick mode cannot judge this part",
    )
    # A manual part whose notebook was tampered with has nothing to review: the verdict stands.
    assert (by_part["4-comment"].status, by_part["4-comment"].message) == (
        "interfered",
        "the notebook interfered with the grader's kernel messages",
    )
    assert by_part["1a"].name == "Gradient of ||x||^2"  # titles come from the manifest
    # Parts without a check are reported, not silently dropped from the total.
    assert by_part["5-q3"].status == "error"
    assert by_part["5-q3"].message == (
        "no check in checks/ grades this part; this is a bug in dlgrade, not the student's "
        "mistake: please report it"
    )
    assert record.max_total == 100
    assert "3" not in by_part  # spring-only check deselected for fall2023
    assert "total" in run.stdout and "1b" in run.stdout


def test_a_check_cannot_hand_a_student_a_harness_status():
    from checks.scoring import CheckFailed

    with pytest.raises(ValueError, match="student's status"):
        CheckFailed("not a student's doing", "error")


def test_problems_option_limits_the_parts(tmp_path):
    _, output = _run(
        tmp_path,
        CHECKS,
        "--submission",
        str(_submission(tmp_path)),
        "--assignment",
        "fall2023",
        "--problems",
        "p1,3",
    )
    record = GradeRecord.from_dict(json.loads(output.read_text()))
    assert {r.part for r in record.results} == {"1a", "1b", "3a-1", "3a-2", "3b", "3c", "3d"}


def test_without_submission_every_check_is_skipped_with_the_reason(tmp_path):
    run, output = _run(tmp_path, CHECKS, "--assignment", "fall2023")
    assert run.returncode == 0, run.stdout + run.stderr
    record = GradeRecord.from_dict(json.loads(output.read_text()))
    checked = [r for r in record.results if not r.message.startswith("no check in checks/")]
    assert checked
    assert all(r.status == "skipped" and r.message == "no --submission given" for r in checked)


def test_assignment_is_read_from_the_submission(tmp_path):
    folder = _submission(tmp_path)
    (folder / "answers.toml").write_text('assignment = "spring2023"\n')
    _, output = _run(tmp_path, CHECKS, "--submission", str(folder))
    record = GradeRecord.from_dict(json.loads(output.read_text()))
    assert record.assignment == "spring2023"
    assert {r.part: r.status for r in record.results}["3"] == "error"  # its own bare assert


def test_two_checks_claiming_one_part_is_a_usage_error(tmp_path):
    twice = (
        CHECKS
        + """

@pytest.mark.part("1a")
def test_also_1a():
    pass
"""
    )
    run, _ = _run(
        tmp_path, twice, "--submission", str(_submission(tmp_path)), "--assignment", "fall2023"
    )
    assert run.returncode == 4  # pytest's usage-error exit code
    assert "more than one check claims the same part (1a:" in run.stderr
