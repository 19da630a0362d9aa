"""What OUT already holds decides whom a run grades: a finished student's grade.json
marks them done, so an interrupted run picks up where it stopped."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from pathlib import Path

from dlgrade.grading.batch_errors import BatchError
from dlgrade.grading.errors import worth_retrying
from dlgrade.grading.outputs import grade_path
from dlgrade.records import GradeRecord


def select(
    submissions: dict[str, Path],
    out: Path,
    force: bool = False,
    only: str | None = None,
    quick: bool | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """(to grade, already done). `only` regrades one student whatever OUT holds.

    With `quick` given, a grade is never replaced by a weaker one: a quick run
    keeps full-mode grades (they count as done), while a full-mode run into an
    OUT that holds quick grades regrades those students rather than passing
    indicative quick scores off as real ones. A record of the harness losing
    the student (`worth_retrying`) is never done: resume retries it.
    """
    if only is not None:
        if only not in submissions:
            close = difflib.get_close_matches(only, submissions, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise BatchError(f"no submission folder named {only!r}{hint}")
        return {only: submissions[only]}, []
    if force:
        return dict(submissions), []
    done = [name for name in submissions if _graded(grade_path(out, name), quick)]
    todo = {name: path for name, path in submissions.items() if name not in done}
    return todo, done


def _graded(path: Path, quick: bool | None) -> bool:
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        retry = worth_retrying(GradeRecord.from_dict(data))
        made_quick = bool(data.get("quick"))
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return True  # unreadable: kept, and load_records names it with the rerun command
    if retry:
        return False
    # Only a full run over a quick grade replaces it: quick never beats full.
    return not (quick is False and made_quick)


def full_grades(out: Path, names: Sequence[str]) -> list[str]:
    """Those of `names` whose grade in OUT was made in full mode (what a quick run keeps)."""
    return [name for name in names if _made_in_full_mode(grade_path(out, name))]


def _made_in_full_mode(path: Path) -> bool:
    try:
        return not json.loads(path.read_text(encoding="utf-8")).get("quick")
    except (OSError, ValueError, AttributeError):
        return False
