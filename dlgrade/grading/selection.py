"""What a grading run grades: the edition (`--assignment`, else what the submission
states, else the default), the part a check's marker names in it, and what `--problems`
may call a part's problem."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

DEFAULT_ASSIGNMENT = "fall2023"


def choose_assignment(option: str | None, submission: Path | None) -> tuple[str, str]:
    """The edition to grade and where that choice came from."""
    if option:
        return option, "--assignment"
    if submission is not None:
        from dlgrade.engine.resubmissions import find_answers  # answers-1.toml states it too

        answers = find_answers(submission).path
        for path in (submission / "submission.toml", answers):
            stated = _stated_assignment(path) if path is not None else None
            if stated:
                return stated, path.name
    return DEFAULT_ASSIGNMENT, "default"


def _stated_assignment(path: Path) -> str | None:
    """`assignment = "..."` at the top of a TOML file; None when absent or unreadable.

    An unparseable answers.toml is no error here: the answers checks report it
    (each with 0 points); for choosing the edition it only means "not stated".
    """
    from dlgrade.engine.paths import read_regular  # the engine loads only when grading

    if not path.is_file():
        return None
    try:
        # Never through a link: the answers checks name it; here it means "not stated".
        text = read_regular(path).decode("utf-8", errors="replace")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    stated = data.get("assignment")
    return stated if isinstance(stated, str) else None


def marked_part(item: pytest.Item, assignment_id: str) -> str | None:
    """The part id an item's `part` marker names for this edition (None: not in it)."""
    marker = item.get_closest_marker("part")
    if marker is None:
        return None
    if len(marker.args) > 1 or (marker.args and marker.kwargs):
        raise pytest.UsageError(f"{item.nodeid}: use part('id') or part(edition='id', ...)")
    if marker.args:
        return str(marker.args[0])
    return marker.kwargs.get(assignment_id)


def problem_names(part: Any) -> set[str]:
    """What --problems may call a part's problem: p3 or 3 (the number in the edition's
    part id, as students see it) or the reference module (relu_fit)."""
    number = re.match(r"\d+", part.id)
    names = {part.problem.lower()}
    if number:
        names |= {number.group(), f"p{number.group()}"}
    return names
