"""Student and class reports: what the templates show, built from real records."""

from __future__ import annotations

import base64
import re

import pytest

from dlgrade.records import (
    ENGINE_KINDS,
    CheckResult,
    FailedCell,
    GradeRecord,
    Observation,
    ObservationKind,
)
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
    obs = [Observation("hw1p4.ipynb", "memory-limit", "cell 3 ran out of memory (cap 4096 MB)")]
    html = render_student(_record("ann", 0.5, observations=obs, quick=True))
    assert re.search(r'id="total">6 / 12<', html)
    assert "Quick mode" in html
    assert '<span class="badge serious">memory-limit</span>' in html
    assert "cell 3 ran out of memory (cap 4096 MB)" in html
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


@pytest.mark.parametrize("kind", sorted(ENGINE_KINDS))
def test_every_kind_the_engine_emits_is_rendered_and_flagged_by_its_weight(kind):
    message = f"what the engine says about {kind}\nmore detail"
    record = _record("ann", observations=[Observation("hw1p5.ipynb", kind, message)])
    badge = "serious" if kind.serious else "note"
    page = render_student(record)
    assert f'<span class="badge {badge}">{kind}</span>' in page
    assert f"<b>hw1p5.ipynb</b>: what the engine says about {kind}" in page
    flags = summaries.flags([record])
    index = render_index([record])
    reason = f"{kind} in hw1p5.ipynb: what the engine says about {kind}"
    if kind.serious:
        assert flags == [summaries.Flag("ann", (reason,))]
        assert f"<li>{reason}</li>" in index
    else:
        assert flags == [] and "Nothing flagged." in index


def test_the_engine_words_that_must_be_flagged_are_serious():
    # The class page once looked for words the engine never wrote; these must reach it.
    for kind in ("kernel-died", "kernel-killed", "memory-limit", "timeout", "interfered"):
        assert ObservationKind(kind).serious


def _with_harness_error(student: str) -> GradeRecord:
    record = _record(student)
    broken = CheckResult(
        "5-q3",
        "train_one_sample",
        0.0,
        14.0,
        "error",
        "harness error (KeyError: 'w0'); this is a bug in dlgrade, not the student's mistake: "
        "please report it (traceback in the grading log)",
    )
    return GradeRecord(student, "fall2023", [*record.results, broken], duration_s=3.0)


def test_harness_errors_are_counted_apart_flagged_and_left_out_of_means():
    ann = _with_harness_error("ann")  # 8 of 12 graded points, plus an errored 14-point part
    ben = _record("ben", 0.0)
    ben.results.append(CheckResult("5-q1", "init", 0.0, 6.0, "malformed", "malformed notebook"))
    counts = summaries.class_counts([ann, ben])
    assert (counts.error_parts, counts.error_records, counts.error_students) == (1, 0, 1)
    assert counts.student_faults == {"failed": 1, "malformed": 1}
    assert summaries.graded_percents([ann, ben]) == pytest.approx([200 / 3, 200 / 9])  # 8/12, 4/18
    parts = summaries.part_stats([ann, ben]).set_index("part")
    assert parts.loc["5-q3", "errors"] == 1 and parts.loc["5-q3", "graded"] == 0
    assert parts.loc["5-q1", "graded"] == 1 and parts.loc["5-q1", "mean_percent"] == 0.0
    assert summaries.flags([ann, ben]) == [
        summaries.Flag(
            "ann",
            (
                "harness error in 5-q3 (this is a bug in dlgrade, not the student's mistake: "
                "please report it; after a fix: dlgrade grade DIR --out OUT --force --only ann)",
            ),
        )
    ]
    html = render_index([ann, ben])
    assert re.search(r'id="error-count">1<', html)
    assert "student failures: failed 1, malformed 1" in html
    assert ">44.4 %<" in html  # the mean of 8/12 and 4/18, the errored part left out
    frame = summaries.grades_frame([ann, ben])
    assert frame.set_index("student").loc["ann", "errors"] == 1


def test_student_page_lists_failed_cells_and_says_a_harness_error_is_not_theirs():
    record = _with_harness_error("ann")
    record.failed_cells.append(
        FailedCell("hw1p5.ipynb", 12, "from tensorflow.python.ops.gen_array_ops import one_hot",
                   "ModuleNotFoundError: No module named 'tensorflow.python'")
    )  # fmt: skip
    html = render_student(record)
    table = html[html.index('<table id="failed-cells">') :]
    row = re.search(r"<tr><td>hw1p5.ipynb</td>.*?</tr>", table).group(0)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row) == [
        "hw1p5.ipynb",
        "12",
        "from tensorflow.python.ops.gen_array_ops import one_hot",
        "ModuleNotFoundError: No module named &#39;tensorflow.python&#39;",
    ]
    banner = re.search(r'<div class="banner error" id="harness-errors">(.*?)</div>', html, re.S)
    assert "The grader failed on 5-q3." in banner.group(1)
    assert "dlgrade grade DIR --out OUT --force --only ann" in banner.group(1)


def test_a_part_awaiting_a_ta_is_not_ranked_hardest_on_its_few_automatic_verdicts():
    def record(student: str, q3: str, comment: str) -> GradeRecord:
        results = [
            CheckResult("5-q3", "gradients", 14.0 if q3 == "passed" else 0.0, 14.0, q3),
            CheckResult("4-comment", "comment", 0.0, 5.0, comment, "no notebook for problem 4"),
        ]
        return GradeRecord(student, "fall2023", results)

    # Only ben's 4-comment has a verdict (his notebook is missing); the others await a TA.
    records = [record("ann", "passed", "manual"), record("ben", "failed", "failed")]
    records.append(record("cat", "passed", "manual"))
    parts = summaries.part_stats(records)
    assert parts["part"].tolist() == ["5-q3", "4-comment"]
    assert parts.iloc[0][["graded", "passed", "pending"]].tolist() == [3, 2, 0]
    assert summaries.hardest_part(records) == ("5-q3", 2, 3)
    # Once the TA's verdicts are merged the part is ranked like any other.
    merged = [record(name, q3, "failed") for name, q3 in [("ann", "passed"), ("ben", "failed")]]
    assert summaries.hardest_part(merged) == ("4-comment", 0, 2)
    awaiting_all = [record("ann", "passed", "manual")]
    assert summaries.hardest_part([GradeRecord("dan", "", [], "error")]) is None
    assert summaries.hardest_part(awaiting_all) == ("5-q3", 1, 1)
