"""Rubric items of a manually graded part: what a TA applies with one click or key.

In a manifest they follow their part as `[[parts.rubric]]` tables (label, points,
description). The points of the items a TA picks add up, capped at the part's
points; an item of 0 points names a verdict ("no answer") without credit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_KEYS = {"label", "points", "description"}
MAX_ITEMS = 9  # one digit key each on the review desk


class RubricError(ValueError):
    """A malformed rubric; the manifest reports it as its own error."""


@dataclass(frozen=True)
class RubricItem:
    label: str
    points: float
    description: str = ""


def rubric_items(
    path: Path, where: str, max_points: float, table: object
) -> tuple[RubricItem, ...]:
    """The validated `[[parts.rubric]]` entries of one part (RubricError names the file)."""
    if not isinstance(table, list) or len(table) > MAX_ITEMS:
        raise RubricError(
            f"{path}: {where} rubric must be up to {MAX_ITEMS} [[parts.rubric]] tables"
        )
    items = []
    for index, entry in enumerate(table):
        problem = _problem(entry, max_points)
        if problem:
            raise RubricError(f"{path}: {where} rubric item {index + 1}: {problem}")
        items.append(
            RubricItem(entry["label"], float(entry["points"]), entry.get("description", ""))
        )
    labels = [item.label for item in items]
    if len(set(labels)) < len(labels):
        raise RubricError(f"{path}: {where} rubric repeats a label: {labels}")
    return tuple(items)


def _problem(entry: object, max_points: float) -> str:
    if not isinstance(entry, dict):
        return "must be a table"
    if set(entry) - _KEYS or not {"label", "points"} <= set(entry):
        return f"keys {sorted(entry)}; needs label and points, may have description"
    points = entry["points"]
    if isinstance(points, bool) or not isinstance(points, int | float):
        return f"points = {points!r} is not a number"
    if not 0 <= points <= max_points:
        return f"points = {points!r} is outside 0..{max_points:g}"
    if not isinstance(entry["label"], str) or not entry["label"].strip():
        return "label must be a non-empty string"
    if not isinstance(entry.get("description", ""), str):
        return "description must be a string"
    return ""


def rubric_points(items: Iterable[RubricItem], max_points: float) -> float:
    """The points of the picked items together, capped at the part's points."""
    return min(sum(item.points for item in items), max_points)
