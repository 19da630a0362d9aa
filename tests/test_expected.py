"""EXPECTED.toml: reading expected verdicts and comparing a grading run with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlgrade.grading.expected import ExpectedError, agreement_lines, compare, load_expected
from dlgrade.records import CheckResult, GradeRecord

KNOWN = {"fall2023": ["3a-1", "3a-2", "5-q1"], "spring2023": ["4-reported"]}
GOOD = """
["ana"]
assignment = "fall2023"
why = "reused `solution` for both fits"
parts."3a-1" = { status = "passed", phrase = "Solution" }
parts."3a-2" = { status = "failed", phrase = "slope is 0.5" }

["ben"]
assignment = "spring2023"
why = "reports 88.1 %"
parts."4-reported" = { status = "passed", quick = { status = "skipped", phrase = "quick mode" } }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "EXPECTED.toml"
    path.write_text(text)
    return path


def result(part: str, status: str, message: str = "", **details) -> CheckResult:
    return CheckResult(part, part, 0.0, 4.0, status, message, details=details)


def record(student: str, assignment: str, *results: CheckResult) -> GradeRecord:
    return GradeRecord(student, assignment, list(results))


def test_rows_are_read_with_their_quick_override(tmp_path):
    rows = load_expected(write(tmp_path, GOOD), KNOWN)
    assert [(r.folder, r.part) for r in rows] == [
        ("ana", "3a-1"),
        ("ana", "3a-2"),
        ("ben", "4-reported"),
    ]
    assert rows[2].wanted(quick=True).status == "skipped"
    assert rows[2].wanted(quick=False).status == "passed"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('["a"]\nwhy = "x"\nparts."3a-1" = { status = "great" }', "needs status"),
        ('["a"]\nwhy = "x"\nparts."9z" = { status = "passed" }', "has no part '9z'"),
        ('["a"]\nparts."3a-1" = { status = "passed" }', "needs `why`"),
        ('["a"]\nwhy = "x"', "needs a `parts` table"),
        (
            '["a"]\nassignment = "winter"\nwhy = "x"\nparts."3a-1" = { status = "passed" }',
            "unknown assignment",
        ),
        ("not toml [", "EXPECTED.toml"),
    ],
)
def test_malformed_expectations_are_refused_with_where(tmp_path, text, words):
    with pytest.raises(ExpectedError, match=words.replace("[", r"\[")):
        load_expected(write(tmp_path, text), KNOWN)


def test_compare_needs_both_the_status_and_the_phrase(tmp_path):
    rows = load_expected(write(tmp_path, GOOD), KNOWN)
    records = {
        "ana": record(
            "ana",
            "fall2023",
            result("3a-1", "passed", found="`solution` after cell 4"),
            result("3a-2", "failed", "no parameter set fits dataset 2"),
        ),
    }
    outcomes = compare(rows, records, quick=True)
    assert [o.ok for o in outcomes] == [True, False, False]
    assert outcomes[1].why == "phrase 'slope is 0.5' not in the message"
    assert outcomes[2].why == "the folder was not graded"
    lines = agreement_lines(outcomes)
    assert lines[0] == "agreement: 1/3 rows (33.3 %)"
    assert lines[1].startswith("  ana 3a-2: phrase")


def test_a_wrong_status_or_edition_disagrees(tmp_path):
    rows = load_expected(write(tmp_path, GOOD), KNOWN)
    records = {
        "ana": record(
            "ana", "fall2023", result("3a-1", "error", "harness bug"), result("3a-2", "failed")
        ),
        "ben": record("ben", "fall2023"),
    }
    outcomes = compare(rows, records, quick=False)
    assert outcomes[0].why == "status error, expected passed; phrase 'Solution' not in the message"
    assert outcomes[2].why.startswith("graded as fall2023")
