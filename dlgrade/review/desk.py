"""What the review desk reads from and writes to OUT, without any HTTP.

A part is on the desk when some student's result for it awaits a TA (status
`manual`) or was scored by one (it carries a `manual_review` entry). Every
decision goes through `merge_scores`, the path `dlgrade merge-manual` uses;
a decision for a group of answers is written for all of them or for none.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from dlgrade.grading.manual import ManualScore, ManualScoreError, merge_scores
from dlgrade.grading.outputs import grade_path, read_record
from dlgrade.grading.outputs import load_records as _load_records
from dlgrade.records import REVIEW_KEY, CheckResult, GradeRecord, PartStatus
from dlgrade.review.groups import group_texts
from reference.rubric import RubricItem, rubric_points
from reports.views import problem_of


@dataclass(frozen=True)
class Answer:
    """One student's result for the part on the desk."""

    student: str
    result: CheckResult
    version: str  # hash of the result as loaded; a save against another one is stale
    assignment: str = ""
    # What the automatic checks found on the same problem (e.g. 4-acc beside 4-comment).
    related: tuple[CheckResult, ...] = field(default=(), compare=False)

    @property
    def done(self) -> bool:
        return self.result.status != PartStatus.MANUAL

    @property
    def review(self) -> dict:
        return self.result.details.get(REVIEW_KEY, {})

    @property
    def text(self) -> str:
        text = self.result.details.get("text")
        return text if isinstance(text, str) else ""


@dataclass(frozen=True)
class Decision:
    """What a TA decided for one part: for one student, or a group (student -> the version
    of the answer the TA saw). `points` None: the picked rubric items' sum."""

    part: str
    versions: Mapping[str, str]
    points: float | None
    comment: str = ""
    rubric: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    part: str
    name: str
    done: int
    total: int


class StaleDecision(Exception):
    """The part changed since the page was loaded; `current` is the newer answer."""

    def __init__(self, current: Answer) -> None:
        super().__init__(f"{current.student} {current.result.part} changed since it was loaded")
        self.current = current


def on_desk(result: CheckResult) -> bool:
    return result.status == PartStatus.MANUAL or REVIEW_KEY in result.details


def version_of(result: CheckResult) -> str:
    data = json.dumps(asdict(result), sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def _answer(record: GradeRecord, result: CheckResult) -> Answer:
    problem = problem_of(result.part)
    related = tuple(
        r for r in record.results if r.part != result.part and problem_of(r.part) == problem
    )
    return Answer(record.student, result, version_of(result), record.assignment, related)


def progress(records: list[GradeRecord]) -> list[Progress]:
    """Per part on the desk, in the order parts first appear: how many are done."""
    rows: dict[str, Progress] = {}
    for record in records:
        for result in filter(on_desk, record.results):
            row = rows.get(result.part) or Progress(result.part, result.name, 0, 0)
            done = row.done + (result.status != PartStatus.MANUAL)
            rows[result.part] = Progress(row.part, row.name, done, row.total + 1)
    return list(rows.values())


def answers(records: list[GradeRecord], part: str) -> list[Answer]:
    """Every student's answer to `part`, by student name."""
    return [
        _answer(record, result)
        for record in records
        for result in record.results
        if result.part == part and on_desk(result)
    ]


def groups(found: Sequence[Answer]) -> dict[str, tuple[str, ...]]:
    """Student -> the students whose answers are the same or nearly (themselves first)."""
    by_student: dict[str, tuple[str, ...]] = {}
    for indices in group_texts([a.text for a in found]):
        members = tuple(found[i].student for i in indices)
        for student in members:
            by_student[student] = (student, *(m for m in members if m != student))
    return by_student


def next_pending(records: list[GradeRecord], part: str, student: str) -> str:
    """The first answer to `part` after `student`'s still awaiting a TA, going round to the
    start; "" when none is left. (Members a TA left out of a group decision come back.)"""
    names = [a.student for a in answers(records, part) if not a.done or a.student == student]
    start = names.index(student) + 1 if student in names else 0
    return next((n for n in names[start:] + names[:start] if n != student), "")


@cache
def rubric(assignment: str, part: str) -> tuple[RubricItem, ...]:
    """The part's rubric items in the assignment's manifest; none when either is unknown."""
    from reference.assignments import ManifestError, load_assignment

    try:
        return load_assignment(assignment).part(part).rubric
    except (ManifestError, KeyError):
        return ()


class Desk:
    """OUT as the desk sees it. One lock makes check-then-write atomic between the
    requests of this server (two TAs in two browsers)."""

    def __init__(self, out: Path, ta: str = "") -> None:
        self.out = out
        self.ta = ta
        self._lock = threading.Lock()

    def records(self) -> list[GradeRecord]:
        return _load_records(self.out)

    def current(self, student: str, part: str) -> Answer | None:
        path = grade_path(self.out, student)
        if not path.is_file():
            return None
        record = read_record(path)
        found = next((r for r in record.results if r.part == part and on_desk(r)), None)
        return _answer(record, found) if found else None

    def decide(self, student: str, part: str, points: float, comment: str, version: str) -> Answer:
        """Save one student's decision; the answer as written (see `apply`)."""
        return self.apply(Decision(part, {student: version}, points, comment))[0]

    def apply(self, decision: Decision) -> list[Answer]:
        """Save `decision` for every student it names, all or none; the answers as written.
        StaleDecision when one answer is not the version the TA saw; ManualScoreError when
        the points are out of range or a rubric label is not the part's."""
        with self._lock:
            currents = [self._current_or_fail(s, decision.part) for s in decision.versions]
            for current in currents:
                if current.version != decision.versions[current.student]:
                    raise StaleDecision(current)
            when = datetime.now(UTC).isoformat(timespec="seconds")
            scores = [self._score(decision, current, when) for current in currents]
            merge_scores(self.out, scores)
            saved = [self.current(s, decision.part) for s in decision.versions]
        assert None not in saved  # merge_scores never drops a part
        return saved  # type: ignore[return-value]

    def _current_or_fail(self, student: str, part: str) -> Answer:
        current = self.current(student, part)
        if current is None:
            raise KeyError(f"no answer of {student!r} to part {part!r} on the desk")
        return current

    def _score(self, decision: Decision, current: Answer, when: str) -> ManualScore:
        items = {item.label: item for item in rubric(current.assignment, decision.part)}
        unknown = [label for label in decision.rubric if label not in items]
        if unknown:
            raise ManualScoreError(f"no rubric item {unknown} for part {decision.part!r}")
        points = decision.points
        if points is None:
            if not decision.rubric:
                raise ManualScoreError("give points or pick a rubric item")
            picked = [items[label] for label in decision.rubric]
            points = rubric_points(picked, current.result.max_points)
        return ManualScore(
            0, current.student, decision.part, points, decision.comment,
            ta=self.ta, at=when, rubric=decision.rubric,
        )  # fmt: skip
