"""Render the HTML reports: one page per student, the class index, the similarity view.

Pages are self-contained (inline CSS, figures as PNG data URIs, no scripts,
no network), so a TA can mail one file or open it from a CI artifact.
Functions return the HTML text; writing files is the caller's job.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import statistics
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from urllib.parse import quote

import jinja2

from dlgrade import __version__
from dlgrade.records import PLEASE_REPORT, GradeRecord, IntakeSummary, rerun_hint
from reports import summaries
from reports.plots import histogram, horizontal_bars
from reports.similarity import SimilarityReport
from reports.views import SERIOUS_KINDS, first_line, student_view

TEMPLATES = Path(__file__).parent / "templates"


def template_environment(folder: Path) -> jinja2.Environment:
    """Autoescaped, strict templates from `folder`, as every page of dlgrade's is built."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails loudly
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pts"] = format_points
    return env


@cache
def environment() -> jinja2.Environment:
    """The shared template environment (built once; it holds no per-report state)."""
    env = template_environment(TEMPLATES)
    env.filters["seconds"] = format_seconds
    env.filters["first_line"] = first_line
    return env


def format_points(value: float | None) -> str:
    """4.0 -> "4", 2.5 -> "2.5", None -> "—"."""
    if value is None or value != value:  # None or NaN (a part this student lacks)
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def format_seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s"


def _common() -> dict:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return {
        "version": __version__,
        "generated": now,
        "serious_kinds": SERIOUS_KINDS,
        "please_report": PLEASE_REPORT,
    }


def student_link(student: str) -> str:
    """Relative link from the index to a student's report (names may hold spaces, and
    bytes that are not UTF-8: the link names the folder's real bytes)."""
    return f"{quote(os.fsencode(student))}/report.html"


def render_student(record: GradeRecord, back_link: str | None = "../index.html") -> str:
    """The student's report: score, sandbox observations, every part with its evidence."""
    template = environment().get_template("student.html.j2")
    return template.render(
        view=student_view(record),
        status=summaries.summary_status(record),
        back_link=back_link,
        rerun=rerun_hint(record.student),
        **_common(),
    )


def render_plain_student(record: GradeRecord) -> str:
    """A bare page (no template, no plots) for when `render_student` itself failed."""
    rows = "".join(
        f"<tr><td>{html.escape(r.part)}</td><td>{r.points:g} / {r.max_points:g}</td>"
        f"<td>{html.escape(str(r.status))}</td><td>{html.escape(first_line(r.message))}</td></tr>"
        for r in record.results
    )
    notes = "".join(
        f"<li>{html.escape(str(o.kind))} in {html.escape(o.source)}: "
        f"{html.escape(first_line(o.message))}</li>"
        for o in record.observations
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(record.student)}</title></head><body>"
        f"<h1>{html.escape(record.student)}: {record.total:g} / {record.max_total:g}</h1>"
        f"<ul>{notes}</ul><table><tr><th>Part</th><th>Points</th><th>Status</th>"
        f"<th>Message</th></tr>{rows}</table></body></html>"
    )


def render_index(
    records: Sequence[GradeRecord],
    similarity: SimilarityReport | None = None,
    similarity_href: str = "similarity.html",
    intake: IntakeSummary | None = None,
) -> str:
    """The class page: distribution, hardest parts, flags, timing, links and unassigned files."""
    grades = summaries.grades_frame(records)
    timing = summaries.timing_frame(records)
    percents = summaries.graded_percents(records)
    template = environment().get_template("index.html.j2")
    return template.render(
        assignments=sorted({r.assignment for r in records if r.assignment}),
        stats=_class_stats(records, percents),
        counts=summaries.class_counts(records),
        flags=summaries.flags(records, similarity),
        parts=_records_without_nan(summaries.part_stats(records).to_dict("records")),
        students=grades.to_dict("records"),
        links={r.student: student_link(r.student) for r in records},
        histogram=histogram(
            percents, "Graded parts per submission (harness errors left out)", "score (%)"
        ),
        timing=horizontal_bars(
            timing["student"].tolist(), timing["duration_s"].tolist(), "", "seconds"
        )
        if len(timing)
        else None,
        similarity=similarity,
        similarity_href=similarity_href,
        intake=intake,
        **_common(),
    )


def _class_stats(records: Sequence[GradeRecord], percents: list[float]) -> dict:
    return {
        "count": len(records),
        "quick": any(r.quick for r in records),
        "mean": round(statistics.fmean(percents), 1) if percents else 0.0,
        "median": round(statistics.median(percents), 1) if percents else 0.0,
    }


def _records_without_nan(rows: list[dict]) -> list[dict]:
    # pandas gives NaN for "no graded submission yet"; templates test for None.
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in rows
    ]


def render_similarity(report: SimilarityReport) -> str:
    """Side-by-side view of every flagged pair, shared code highlighted."""
    template = environment().get_template("similarity.html.j2")
    return template.render(report=report, groups=report.groups(), **_common())
