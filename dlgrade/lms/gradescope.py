"""Gradescope's formats: the autograder's results.json and the CSV for uploading scores.

results.json follows Gradescope's autograder specification
(gradescope-autograders.readthedocs.io, "Autograder Specifications"): a
top-level `score`, `output` and `tests`, each test with `name`, `score`,
`max_score`, `status` ("passed" or "failed"), `output` and `visibility`.
Gradescope has only those two statuses, so the rest of ours show in each
test's name, tags and output. A part that holds no verdict yet (awaiting TA
review, or not graded in this run) carries no status and no max_score, so
Gradescope shows it as neither passed nor failed, with 0 points and the
reason; a harness error says it is not the student's fault.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from dlgrade import __version__
from dlgrade.records import CheckResult, GradeRecord

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
TEST_STATUSES = ("passed", "failed")
# Keys the specification allows (so a typo of ours is caught, not silently ignored).
TOP_KEYS = {
    "score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output",
    "output_format", "tags", "visibility", "extra_data",
}  # fmt: skip
# What every test of ours carries (the contract with TAs and students); a part
# still pending (manual review, not graded in this run) has no verdict to state.
REQUIRED_TEST_KEYS = ("name", "score", "output", "visibility")
VERDICT_KEYS = ("max_score", "status")
PENDING = ("manual", "skipped")
DETAIL_LINES = ("found", "expected", "note", "source", "source_note")
MANUAL_SCORE_COLUMNS = ("Name", "Email", "SID", "Total Score")


def results_json(record: GradeRecord) -> dict:
    """The results.json Gradescope reads from /autograder/results for this record."""
    return {
        "score": record.total,
        "execution_time": int(round(record.duration_s)),
        "output": submission_output(record),
        "stdout_visibility": "hidden",  # the grading log is for staff
        "extra_data": {
            "dlgrade_version": __version__,
            "assignment": record.assignment,
            "quick": record.quick,
            "isolation": record.isolation,
            "status": record.status,
        },
        "tests": [test_entry(r) for r in record.results],
    }


def submission_output(record: GradeRecord) -> str:
    """The text shown above the tests: how it was graded, and what the sandbox saw."""
    mode = "quick mode: small data, indicative only" if record.quick else "full data"
    lines = [f"Graded by dlgrade {__version__} ({record.assignment or 'unknown edition'}, {mode})."]
    if record.status == "error":
        lines.append(
            "Grading could not finish. This is a problem with the grader, not with your work: "
            "please tell the course staff."
        )
    if record.isolation:
        lines.append(f"Sandbox: {record.isolation}.")
    pending = [r.part for r in record.results if r.status == "manual"]
    if pending:
        lines.append(f"Awaiting TA review: {', '.join(pending)} (0 points until reviewed).")
    lines += [f"[{o.source}] {o.kind}: {o.message}" for o in record.observations]
    return "\n".join(lines)


def test_entry(result: CheckResult) -> dict:
    test = {
        "name": f"{result.part}: {result.name}{_name_suffix(result)}",
        "score": result.points,
        "output": test_output(result),
        "visibility": "visible" if result.visibility == "visible" else "after_published",
        "tags": [str(result.status)],
        "extra_data": {"status": str(result.status), "max_points": result.max_points},
    }
    if result.status not in PENDING:
        test["max_score"] = result.max_points
        test["status"] = "passed" if result.status == "passed" else "failed"
    return test


def _name_suffix(result: CheckResult) -> str:
    return {
        "manual": " (awaiting TA review)",
        "skipped": " (not graded in this run)",
        "error": " (grader error)",
    }.get(result.status, "")


def test_output(result: CheckResult) -> str:
    """The part's message, then the details a student needs (what was found, which file)."""
    lead = {
        "manual": "Awaiting review: a TA grades this part by hand (0 points until then).",
        "skipped": "Not graded in this run (the grader's choice, not your doing).",
        "error": "The grader itself failed on this part; this is not your fault, please report it.",
    }.get(result.status)
    lines = [lead] if lead else []
    if result.message and result.message != "awaiting TA review":
        lines.append(result.message)
    for key in DETAIL_LINES:
        value = result.details.get(key)
        if isinstance(value, str | int | float) and str(value):
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return "\n".join(lines)


def results_problems(data: object) -> list[str]:
    """Where `data` breaks Gradescope's results.json specification (empty: it conforms).

    Checks what the specification documents (types, allowed keys and values)
    plus our own contract: every test has a name, score, max_score, status,
    output and visibility.
    """
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as err:
        return [f"not plain JSON without NaN or infinity: {err}"]
    if not isinstance(data, dict):
        return [f"the top level must be an object, found {type(data).__name__}"]
    problems = [f"unknown top-level key {k!r}" for k in sorted(set(data) - TOP_KEYS)]
    tests = data.get("tests")
    if "score" not in data and not tests:
        problems.append("needs a top-level score or tests with scores")
    if "score" in data and not _number(data["score"]):
        problems.append(f"score must be a number, found {data['score']!r}")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in VISIBILITIES:
            problems.append(f"{key} must be one of {VISIBILITIES}, found {data[key]!r}")
    if "output" in data and not isinstance(data["output"], str):
        problems.append("output must be a string")
    if tests is not None:
        if not isinstance(tests, list):
            return [*problems, "tests must be a list"]
        for index, test in enumerate(tests):
            problems += [f"tests[{index}]: {p}" for p in _test_problems(test)]
    return problems


def _test_problems(test: object) -> list[str]:
    if not isinstance(test, dict):
        return ["must be an object"]
    problems = [f"unknown key {k!r}" for k in sorted(set(test) - TEST_KEYS)]
    problems += [f"missing {k!r}" for k in REQUIRED_TEST_KEYS if k not in test]
    pending = (
        isinstance(test.get("extra_data"), dict) and test["extra_data"].get("status") in PENDING
    )
    if not pending:
        problems += [f"missing {k!r}" for k in VERDICT_KEYS if k not in test]
    for key in ("score", "max_score"):
        if key in test and not _number(test[key]):
            problems.append(f"{key} must be a number, found {test[key]!r}")
    if _number(test.get("max_score")) and test["max_score"] < 0:
        problems.append("max_score must not be negative")
    if "status" in test and test["status"] not in TEST_STATUSES:
        problems.append(f"status must be one of {TEST_STATUSES}, found {test['status']!r}")
    if "visibility" in test and test["visibility"] not in VISIBILITIES:
        problems.append(f"visibility must be one of {VISIBILITIES}, found {test['visibility']!r}")
    for key in ("name", "output", "number"):
        if key in test and not isinstance(test[key], str):
            problems.append(f"{key} must be a string")
    tags = test.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append("tags must be a list of strings")
    return problems


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def manual_scores_rows(records: Sequence[GradeRecord]) -> tuple[list[dict], list[str]]:
    """Rows for Gradescope's score upload (one per student, group members each get one).

    Gradescope matches uploaded rows to its roster by email (or SID); students
    without either are still listed, by name, and named in the warnings.
    Grading errors are left out (no score is better than a wrong one).
    """
    rows, warnings = [], []
    for record in records:
        if record.status == "error":
            warnings.append(f"{record.student}: grading error, left out (regrade with --only)")
            continue
        people = record.identities or []
        if not people:
            warnings.append(
                f"{record.student}: no email or SID known; Gradescope must match by name"
            )
            rows.append(_score_row(record.student, "", "", record.total))
        for person in people:
            if not (person.email or person.id):
                warnings.append(f"{record.student}: no email or SID known for {person.name!r}")
            sid = person.id if person.lms in ("gradescope", "") else ""
            rows.append(_score_row(person.name or record.student, person.email, sid, record.total))
        pending = [r.part for r in record.results if r.status == "manual"]
        if pending:
            warnings.append(
                f"{record.student}: {', '.join(pending)} await TA review and count 0 "
                "(merge them first with dlgrade merge-manual)"
            )
    return rows, warnings


def _score_row(name: str, email: str, sid: str, total: float) -> dict:
    return dict(zip(MANUAL_SCORE_COLUMNS, (name, email, sid, f"{total:g}"), strict=True))
