"""Turn grade records into what the templates show: plots rendered, details sorted out.

`CheckResult.details` follows loose conventions (see docs/DESIGN.md and the
checks): `plot`, `text`, `images`, `expected`, `found`; anything else is shown
as a key/value table. Malformed entries are shown to the TA as a note in the
report rather than aborting the whole report: one odd check must not hide
every other result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dlgrade.records import CheckResult, FailedCell, GradeRecord, ObservationKind, PartStatus
from reports.plots import PNG_PREFIX, line_plot

KNOWN_KEYS = ("plot", "text", "images", "expected", "found", "printed")
# Observation kinds that mean the grade may be wrong or incomplete (see ObservationKind.serious).
SERIOUS_KINDS = frozenset(kind for kind in ObservationKind if kind.serious)


@dataclass(frozen=True)
class DetailView:
    """The renderable parts of one `CheckResult.details`."""

    plot: str | None = None  # PNG data URI
    text: str | None = None
    printed: str | None = None  # what a notebook printed (a part handed to a TA shows it)
    images: tuple[str, ...] = ()
    expected: str | None = None
    found: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()  # problems with the details themselves

    @property
    def empty(self) -> bool:
        return not (
            self.plot or self.text or self.printed or self.images or self.extra or self.notes
        )


@dataclass(frozen=True)
class RowView:
    result: CheckResult
    details: DetailView
    headline: str  # first line of the message

    @property
    def rest_of_message(self) -> str:
        return self.result.message.partition("\n")[2].strip()


@dataclass(frozen=True)
class ProblemSection:
    problem: str
    rows: tuple[RowView, ...]
    points: float
    max_points: float


@dataclass(frozen=True)
class StudentView:
    record: GradeRecord
    sections: tuple[ProblemSection, ...]
    pending_manual: int
    serious_observations: int = 0
    harness_errors: tuple[str, ...] = ()  # parts the grader itself failed on
    failed_cells: tuple[FailedCell, ...] = ()

    @property
    def percent(self) -> float:
        return percent(self.record.total, self.record.max_total)


def percent(points: float, max_points: float) -> float:
    return round(100.0 * points / max_points, 1) if max_points else 0.0


def first_line(text: str) -> str:
    return text.strip().partition("\n")[0]


def problem_of(part: str) -> str:
    """Problem number of a part id: "5-q3" -> "5", "3a" -> "3"; other ids stay whole."""
    match = re.match(r"\d+", part)
    return match.group(0) if match else part


def detail_view(details: dict) -> DetailView:
    notes: list[str] = []
    plot = _plot(details.get("plot"), notes) if "plot" in details else None
    images = _images(details.get("images", []), notes)
    text = details.get("text")
    printed = details.get("printed")
    extra = tuple(
        (str(key), _short(value)) for key, value in details.items() if key not in KNOWN_KEYS
    )
    return DetailView(
        plot=plot,
        text=str(text) if text not in (None, "") else None,
        printed=str(printed) if printed not in (None, "") else None,
        images=images,
        expected=_optional_str(details.get("expected")),
        found=_optional_str(details.get("found")),
        extra=extra,
        notes=tuple(notes),
    )


def _plot(spec: object, notes: list[str]) -> str | None:
    if not isinstance(spec, dict) or not isinstance(spec.get("series"), dict):
        notes.append("plot data malformed: expected {'series': {label: [numbers]}, ...}")
        return None
    try:
        return line_plot(
            spec["series"],
            title=str(spec.get("title", "")),
            xlabel=str(spec.get("xlabel", "")),
            ylabel=str(spec.get("ylabel", "")),
        )
    except (TypeError, ValueError) as err:
        notes.append(f"plot data malformed: {err}")
        return None


def _images(images: object, notes: list[str]) -> tuple[str, ...]:
    if not isinstance(images, list):
        notes.append("images malformed: expected a list of PNG data URIs")
        return ()
    # Only inline PNGs: a report must not reach the network or the disk.
    good = tuple(i for i in images if isinstance(i, str) and i.startswith(PNG_PREFIX))
    if len(good) < len(images):
        notes.append(f"{len(images) - len(good)} image(s) skipped: not PNG data URIs")
    return good


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _short(value: object, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def student_view(record: GradeRecord) -> StudentView:
    by_problem: dict[str, list[CheckResult]] = {}
    for result in record.results:
        by_problem.setdefault(problem_of(result.part), []).append(result)
    ordered = sorted(by_problem.items(), key=lambda item: _problem_sort_key(item[0]))
    sections = tuple(_section(problem, results) for problem, results in ordered)
    return StudentView(
        record=record,
        sections=sections,
        pending_manual=sum(r.status == PartStatus.MANUAL for r in record.results),
        serious_observations=sum(o.kind.serious for o in record.observations),
        harness_errors=tuple(r.part for r in record.harness_errors),
        failed_cells=tuple(record.failed_cells),
    )


def _problem_sort_key(problem: str) -> tuple[int, str]:
    # Numeric problems in numeric order ("2" before "10"); named ones after them.
    return (int(problem), "") if problem.isdigit() else (10**6, problem)


def _section(problem: str, results: Iterable[CheckResult]) -> ProblemSection:
    rows = tuple(RowView(r, detail_view(r.details), first_line(r.message)) for r in results)
    return ProblemSection(
        problem=problem,
        rows=rows,
        points=round(sum(r.result.points for r in rows), 4),
        max_points=round(sum(r.result.max_points for r in rows), 4),
    )
