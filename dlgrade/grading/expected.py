"""Expected verdicts for a corpus of submissions, and how a grading run compares.

A course keeps a corpus of hand-ins with the verdict each part must get
(`EXPECTED.toml`, format in submissions/field/README.md): the harness's own
field corpus, or a TA's regression set. `load_expected` reads and validates
it; `compare` lines a grading run up against it, row by row.

    ["folder-name"]
    assignment = "fall2023"
    why = "what the student did and why the verdicts follow"
    parts."5-q1" = { status = "passed", phrase = "seeded as asked" }
    parts."4-reported" = { status = "passed", quick = { status = "skipped" } }
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlgrade.records import GradeRecord

EXPECTED_FILE = "EXPECTED.toml"  # a corpus's expected verdicts, beside its submission folders

STATUSES = (
    "passed",
    "partial",
    "failed",
    "malformed",
    "timeout",
    "interfered",
    "skipped",
    "manual",
    "error",
)


class ExpectedError(ValueError):
    """EXPECTED.toml is not in the documented format (the message says where)."""


@dataclass(frozen=True)
class Verdict:
    status: str
    phrase: str = ""


@dataclass(frozen=True)
class Row:
    """One part of one submission and the verdict it must get, by mode."""

    folder: str
    assignment: str
    part: str
    full: Verdict
    quick: Verdict

    def wanted(self, quick: bool) -> Verdict:
        return self.quick if quick else self.full


@dataclass(frozen=True)
class Outcome:
    row: Row
    status: str  # what the grader said ("missing" when it said nothing)
    text: str  # message and details text searched for the phrase
    ok: bool
    why: str  # for a disagreement: what differs


def load_expected(path: Path, known_parts: Mapping[str, Iterable[str]] | None = None) -> list[Row]:
    """The rows of `path`; `known_parts` (assignment -> part ids) validates part names."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ExpectedError(f"{path}: {err}") from err
    rows = []
    for folder, table in data.items():
        rows += _rows(folder, table, known_parts)
    return rows


def _rows(folder: str, table: Any, known: Mapping[str, Iterable[str]] | None) -> list[Row]:
    where = f"[{folder!r}]"
    if not isinstance(table, dict) or not isinstance(table.get("parts"), dict):
        raise ExpectedError(f"{where} needs a `parts` table")
    assignment = table.get("assignment", "fall2023")
    if not isinstance(table.get("why", ""), str) or not table.get("why"):
        raise ExpectedError(
            f"{where} needs `why`: what the student did and why the verdicts follow"
        )
    if known is not None and assignment not in known:
        raise ExpectedError(f"{where}: unknown assignment {assignment!r}")
    rows = []
    for part, spec in table["parts"].items():
        if known is not None and part not in set(known[assignment]):
            raise ExpectedError(f"{where}: {assignment} has no part {part!r}")
        full = _verdict(spec, f"{where} {part}")
        quick_spec = spec.get("quick")
        quick = _verdict(quick_spec, f"{where} {part} quick") if quick_spec is not None else full
        rows.append(Row(folder, assignment, part, full, quick))
    return rows


def _verdict(spec: Any, where: str) -> Verdict:
    if not isinstance(spec, dict) or spec.get("status") not in STATUSES:
        raise ExpectedError(f"{where}: needs status, one of {', '.join(STATUSES)}")
    phrase = spec.get("phrase", "")
    if not isinstance(phrase, str):
        raise ExpectedError(f"{where}: phrase must be text")
    return Verdict(spec["status"], phrase)


def compare(rows: Iterable[Row], records: Mapping[str, GradeRecord], quick: bool) -> list[Outcome]:
    """Each row against the record of its folder (one Outcome per row)."""
    outcomes = []
    for row in rows:
        record = records.get(row.folder)
        if record is None:
            outcomes.append(Outcome(row, "missing", "", False, "the folder was not graded"))
            continue
        outcomes.append(_judge(row, record, quick))
    return outcomes


def _judge(row: Row, record: GradeRecord, quick: bool) -> Outcome:
    wanted = row.wanted(quick)
    if record.assignment != row.assignment:
        why = f"graded as {record.assignment or 'nothing'} (status {record.status})"
        return Outcome(row, "missing", "", False, why)
    result = next((r for r in record.results if r.part == row.part), None)
    if result is None:
        return Outcome(row, "missing", "", False, "the grade has no such part")
    text = " | ".join([result.message, *_texts(result.details)])
    problems = []
    if result.status != wanted.status:
        problems.append(f"status {result.status}, expected {wanted.status}")
    if wanted.phrase and wanted.phrase.lower() not in text.lower():
        problems.append(f"phrase {wanted.phrase!r} not in the message")
    return Outcome(row, result.status, text, not problems, "; ".join(problems))


def _texts(details: Mapping[str, Any]) -> list[str]:
    found = []
    for value in details.values():
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found += [v for v in value if isinstance(v, str)]
    return found


def agreement_lines(outcomes: list[Outcome]) -> list[str]:
    """A summary line, then one line per disagreement."""
    agreed = sum(o.ok for o in outcomes)
    share = 100 * agreed / len(outcomes) if outcomes else 0.0
    lines = [f"agreement: {agreed}/{len(outcomes)} rows ({share:.1f} %)"]
    for o in outcomes:
        if not o.ok:
            lines.append(f"  {o.row.folder} {o.row.part}: {o.why} -- {o.text[:300]}")
    return lines
