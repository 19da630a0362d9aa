"""What the review desk reads from and writes to OUT, without any HTTP.

A part is on the desk when some student's result for it awaits a TA (status
`manual`) or was scored by one (it carries a `manual_review` entry). Every
decision goes through `merge_scores`, the path `dlgrade merge-manual` uses.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from dlgrade.grading.manual import REVIEW_KEY, ManualScore, merge_scores
from dlgrade.grading.outputs import grade_path, read_record
from dlgrade.grading.outputs import load_records as _load_records
from dlgrade.records import CheckResult, GradeRecord, PartStatus


@dataclass(frozen=True)
class Answer:
    """One student's result for the part on the desk."""

    student: str
    result: CheckResult
    version: str  # hash of the result as loaded; a save against another one is stale

    @property
    def done(self) -> bool:
        return self.result.status != PartStatus.MANUAL

    @property
    def review(self) -> dict:
        return self.result.details.get(REVIEW_KEY, {})


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


def _answer(student: str, result: CheckResult) -> Answer:
    return Answer(student, result, version_of(result))


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
        _answer(record.student, result)
        for record in records
        for result in record.results
        if result.part == part and on_desk(result)
    ]


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
        return _answer(student, found) if found else None

    def decide(self, student: str, part: str, points: float, comment: str, version: str) -> Answer:
        """Save one decision; the answer as written. StaleDecision when `version` is not the
        part's current one; ManualScoreError when the points are out of range."""
        with self._lock:
            current = self.current(student, part)
            if current is None:
                raise KeyError(f"no answer of {student!r} to part {part!r} on the desk")
            if current.version != version:
                raise StaleDecision(current)
            when = datetime.now(UTC).isoformat(timespec="seconds")
            score = ManualScore(0, student, part, points, comment, ta=self.ta, at=when)
            merge_scores(self.out, [score])
            saved = self.current(student, part)
        assert saved is not None  # merge_scores never drops a part
        return saved
