"""A hand-built graded OUT for the review desk's tests, and the desk's pages and forms.

Imported after `pytest.importorskip("starlette.testclient")`: the desk needs starlette.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from starlette.testclient import TestClient

from dlgrade.grading.outputs import rebuild_reports, write_student_outputs
from dlgrade.records import CheckResult, GradeRecord
from dlgrade.review.app import create_app, url_key
from dlgrade.review.desk import Desk

TOKEN = "test-token-123"
EVIL = "<script>document.title='pwned'</script><b>bold</b>"
TEXTS = {"ann": "Overfitting shows as the gap.", "ben": EVIL, "cat": "No idea."}


def record_of(student: str) -> GradeRecord:
    manual = {"text": TEXTS[student]}
    return GradeRecord(
        student,
        "fall2023",
        [
            CheckResult("2b", "closed form?", 4.0, 4.0, "passed", "answer is no"),
            CheckResult(
                "2c", "reflection", 0.0, 4.0, "manual", "awaiting TA review", details=manual
            ),
            CheckResult("4-comment", "comment", 0.0, 2.0, "manual", "awaiting TA review"),
        ],
    )


def graded_out(tmp_path: Path) -> Path:
    """OUT as `dlgrade grade` leaves it, for the students in TEXTS."""
    folder = tmp_path / "out"
    for student in TEXTS:
        write_student_outputs(folder, record_of(student))
    rebuild_reports(folder)
    return folder


def desk_client(out: Path) -> TestClient:
    return TestClient(create_app(Desk(out, ta="tess"), TOKEN))


def part_result(out: Path, student: str) -> dict:
    data = json.loads((out / student / "grade.json").read_text())
    return next(r for r in data["results"] if r["part"] == "2c")


def form_version(page: str) -> str:
    return re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)


def part_page(client, student: str) -> str:
    response = client.get(f"/part/2c?token={TOKEN}&student={url_key(student)}")
    assert response.status_code == 200
    return response.text


def save_part(client, student: str, points: str, comment: str, version: str, **more):
    return client.post(
        f"/part/2c?token={TOKEN}&student={url_key(student)}",
        data={"points": points, "comment": comment, "version": version, "next": "", **more},
        follow_redirects=False,
    )


def write_answer(out: Path, student: str, text: str) -> None:
    record = record_of("ann")
    result = CheckResult("2c", "reflection", 0.0, 4.0, "manual", "", details={"text": text})
    write_student_outputs(out, GradeRecord(student, record.assignment, [record.results[0], result]))


def group_members(page: str) -> list[str]:
    return re.findall(r'name="member" value="([^"]+)"', page)
