"""Student and class reports: what the templates show, built from real records."""

from __future__ import annotations

import base64
import re

import pytest

from dlgrade.records import CheckResult, GradeRecord, Observation
from reports import summaries
from reports.plots import PNG_PREFIX
from reports.render import format_points, format_seconds, render_index, render_student
from reports.similarity import SimilarityReport, SimilarPair
from reports.views import detail_view, problem_of, student_view

CURVES = {
    "title": "test loss per epoch",
    "xlabel": "epoch",
    "ylabel": "loss",
    "series": {"student": [0.9, 0.7, 0.6], "reference": [0.6, 0.45, 0.35]},
}


def _record(student: str, fraction: float = 1.0, **extra: object) -> GradeRecord:
    status = "passed" if fraction == 1 else ("partial" if fraction else "failed")
    results = [
        CheckResult("3c", "forward pass f(2, θ₀)", 4.0, 4.0, "passed", "f(2) = -3"),
        CheckResult(
            "4-curves",
            "loss curves",
            4.0 * fraction,
            4.0,
            status,
            "test loss too high\nsee the plot",
            details={"plot": CURVES, "expected": "<= 0.45", "found": "0.6", "epochs": 3},
        ),
        CheckResult(
            "2c",
            "reflection",
            0.0,
            4.0,
            "manual",
            "awaiting TA review",
            details={"text": "<script>alert(1)</script> l1 is robust"},
        ),
    ]
    return GradeRecord(student, "fall2023", results, duration_s=12.5, **extra)


def _png_bytes(uri: str) -> bytes:
    assert uri.startswith(PNG_PREFIX)
    return base64.b64decode(uri[len(PNG_PREFIX) :])


def test_plot_details_become_an_inline_png_and_known_keys_leave_the_extra_table():
    view = detail_view({"plot": CURVES, "expected": "1", "found": "2", "epochs": 3})
    assert _png_bytes(view.plot).startswith(b"\x89PNG")
    assert (view.expected, view.found) == ("1", "2")
    assert view.extra == (("epochs", "3"),)
    assert view.notes == ()


def test_malformed_details_are_reported_in_the_page_not_raised():
    view = detail_view({"plot": {"series": [1, 2]}, "images": ["http://evil/x.png"]})
    assert view.plot is None and view.images == ()
    assert any("plot data malformed" in n for n in view.notes)
    assert any("not PNG data URIs" in n for n in view.notes)


def test_sections_group_parts_by_problem_in_numeric_order():
    view = student_view(_record("ann"))
    assert [s.problem for s in view.sections] == ["2", "3", "4"]
    assert view.pending_manual == 1
    assert problem_of("5-q3") == "5" and problem_of("10b") == "10" and problem_of("x") == "x"


def test_student_report_shows_totals_evidence_and_escapes_student_text():
    obs = [Observation("hw1p4.ipynb", "killed-memory", "kernel used more than 4 GiB")]
    html = render_student(_record("ann", 0.5, observations=obs, quick=True))
    assert re.search(r'id="total">6 / 12<', html)
    assert "Quick mode" in html
    assert "killed-memory" in html and "kernel used more than 4 GiB" in html
    assert html.count(PNG_PREFIX) == 1  # the loss plot
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert 'expected: <span class="exp">&lt;= 0.45</span>' in html
    assert "await manual review" in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_class_index_lists_students_flags_and_hardest_part_first():
    records = [
        _record("ann"),
        _record("ben", 0.0),
        GradeRecord(
            "cat",
            "",
            [],
            status="error",
            observations=[Observation("harness", "grading-error", "pytest exited 3\nlog tail")],
        ),
    ]
    similarity = SimilarityReport(
        pairs=(SimilarPair("ann", "ben", 0.9, 0.8),),
        threshold=0.5,
        compared=("ann", "ben"),
        starters=("starter.ipynb",),
    )
    html = render_index(records, similarity)
    assert 'href="ann/report.html"' in html and 'href="cat/report.html"' in html
    assert "similar code to ben" in html and "grading-error in harness: pytest exited 3" in html
    assert "log tail" not in html  # flags show the first line only
    parts = summaries.part_stats(records)
    assert parts["part"].tolist()[0] == "4-curves"  # 1 of 2 passed: the hardest
    assert parts.set_index("part").loc["2c", "pending"] == 2
    assert html.count(PNG_PREFIX) == 2  # histogram and timing chart


def test_grades_frame_has_a_column_per_part_and_summary_columns():
    frame = summaries.grades_frame([_record("ben", 0.0), _record("ann")])
    assert frame["student"].tolist() == ["ann", "ben"]
    assert list(frame.columns[:4]) == ["student", "3c", "4-curves", "2c"]
    ann = frame.iloc[0]
    assert (ann["total"], ann["max"], ann["status"], ann["pending_manual"]) == (
        8.0,
        12.0,
        "needs-review",
        1,
    )


@pytest.mark.parametrize(
    ("value", "text"), [(4.0, "4"), (2.5, "2.5"), (1 / 3, "0.33"), (None, "—"), (float("nan"), "—")]
)
def test_points_format(value, text):
    assert format_points(value) == text


def test_seconds_format():
    assert format_seconds(12.34) == "12.3 s"
    assert format_seconds(125) == "2 min 05 s"
