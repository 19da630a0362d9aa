"""One vocabulary: the engine, the checks, the reports and the Gradescope export share it.

The engine's kinds are read from its source (the runner names them as
`ObservationKind.X`, the in-kernel shim as string literals it cannot import),
so a kind added to the engine without the vocabulary, or a vocabulary entry
the engine never emits, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dlgrade.lms.gradescope import results_json
from dlgrade.records import (
    ENGINE_KINDS,
    KERNEL_REPORTS,
    CheckResult,
    GradeRecord,
    Observation,
    ObservationKind,
    PartStatus,
)

ENGINE = Path(__file__).resolve().parents[1] / "dlgrade" / "engine"


# The modules of a notebook run (runner.py and the steps and notes it is made of).
RUN_MODULES = ("runner.py", "cell_steps.py", "probe_steps.py", "run_notes.py")


def runner_kinds() -> set[ObservationKind]:
    text = "".join((ENGINE / name).read_text() for name in RUN_MODULES)
    return {ObservationKind[name] for name in re.findall(r"ObservationKind\.([A-Z_]+)", text)}


def shim_kinds() -> set[str]:
    found = set()
    for path in (ENGINE / "shim").rglob("*.py"):
        found |= set(re.findall(r'observe\.note\(\s*"([^"]+)"', path.read_text()))
    return found


def test_the_engine_emits_exactly_the_engine_kinds():
    assert shim_kinds() == {str(k) for k in KERNEL_REPORTS}
    assert runner_kinds() | KERNEL_REPORTS == ENGINE_KINDS


def test_unknown_words_are_refused_and_old_words_are_read():
    with pytest.raises(ValueError):
        Observation("hw.ipynb", "kernel-exploded", "?")
    with pytest.raises(ValueError):
        CheckResult("5-q1", "init", 0.0, 6.0, "wrong")
    # grade.json files from before the vocabulary used the engine's old words
    assert Observation("hw.ipynb", "died", "x").kind == ObservationKind.KERNEL_DIED
    assert Observation("hw.ipynb", "killed", "x").kind == ObservationKind.KERNEL_KILLED


def test_an_older_grade_file_still_reads():
    old = {
        "student": "ann",
        "assignment": "fall2023",
        "results": [
            {
                "part": "5-q1",
                "name": "init",
                "points": 0.0,
                "max_points": 6.0,
                "status": "skipped",
                "message": "not run: kernel died",
                "visibility": "visible",
                "details": {},
            }
        ],
        "status": "graded",
        "observations": [{"source": "hw.ipynb", "kind": "died", "message": "cell 3"}],
    }
    record = GradeRecord.from_dict(old)
    assert record.failed_cells == [] and record.results[0].status == PartStatus.SKIPPED
    again = GradeRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record
    assert json.loads(json.dumps(record.to_dict()))["observations"][0]["kind"] == "kernel-died"


def _result(part: str, status: str, points: float = 0.0, message: str = "") -> CheckResult:
    return CheckResult(part, f"check {part}", points, 4.0, status, message)


def test_gradescope_export_names_each_kind_of_verdict():
    record = GradeRecord(
        "ann",
        "fall2023",
        [
            _result("1a", "passed", 4.0),
            _result("2c", "manual", 0.0, "awaiting TA review"),
            _result("4-reported", "skipped", 0.0, "quick mode trains on a slice"),
            _result("5-q1", "malformed", 0.0, "malformed notebook: hw.ipynb is not UTF-8"),
            _result("5-q3", "error", 0.0, "harness error (KeyError: 'x'); please report it"),
        ],
    )
    tests = {t["name"].partition(":")[0]: t for t in results_json(record)["tests"]}
    passed, manual, skipped = tests["1a"], tests["2c"], tests["4-reported"]
    assert (passed["status"], passed["score"], passed["max_score"]) == ("passed", 4.0, 4.0)
    # Pending review is neither passed nor failed: no status and no max_score to fail against.
    assert "status" not in manual and "max_score" not in manual and manual["score"] == 0.0
    assert manual["output"].startswith("Awaiting review: a TA grades this part")
    assert manual["extra_data"] == {"status": "manual", "max_points": 4.0}
    assert "status" not in skipped and "max_score" not in skipped
    assert skipped["output"].startswith("Not graded in this run")
    assert "quick mode trains on a slice" in skipped["output"]
    assert tests["5-q1"]["status"] == "failed" and tests["5-q1"]["tags"] == ["malformed"]
    assert "malformed notebook: hw.ipynb is not UTF-8" in tests["5-q1"]["output"]
    assert tests["5-q3"]["status"] == "failed" and "(grader error)" in tests["5-q3"]["name"]
    assert "not your fault" in tests["5-q3"]["output"]


def test_graded_percent_leaves_harness_errors_and_skipped_parts_out():
    record = GradeRecord(
        "ann",
        "fall2023",
        [_result("1a", "passed", 4.0), _result("1b", "failed"), _result("5-q3", "error")],
    )
    assert record.graded_percent() == 50.0  # 4 of 8, the errored part's 4 left out
    assert [r.part for r in record.harness_errors] == ["5-q3"]
    assert GradeRecord("bob", "", [], status="error").graded_percent() is None
