"""Parts a student's machine leaves to the TA, and the total that says so.

The student bundle cannot judge a part that needs the reference solution on
the student's own values: the check is skipped with a reason that starts
"checked by the TA" (checks/offline.py). Such a part scores 0 in the record,
so a plain total would tell a student with full marks they are failing; the
self-check's table and total show it apart instead. The TA's grading and the
records are unchanged: this is how a self-check's result is read, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlgrade.records import CheckResult, PartStatus
from reports.render import format_points

TA_CHECKED = "checked by the TA"  # the start of checks.offline.TA_ONLY


def is_ta_checked(result: CheckResult) -> bool:
    """A part skipped because only the TA's machine can judge it."""
    return result.status == PartStatus.SKIPPED and result.message.startswith(TA_CHECKED)


def points_cell(result: CheckResult) -> str:
    """ "6/6", or "-/6" for a part the TA checks: it scored nothing here, nor lost anything."""
    got = "-" if is_ta_checked(result) else format_points(result.points)
    return f"{got}/{format_points(result.max_points)}"


def split_total(results: Sequence[CheckResult]) -> str | None:
    """ "judged here: 59/59; checked by the TA: 41 points (1a, 1b)", or None when none is."""
    if not any(is_ta_checked(r) for r in results):
        return None  # the TA's own grading, or a self-check that judged every part itself
    # A part graded by hand (manual) awaits the TA too: it is no more judged here.
    left = [r for r in results if is_ta_checked(r) or r.status == PartStatus.MANUAL]
    judged = [r for r in results if r not in left]
    points = round(sum(r.points for r in judged), 4)
    maximum = round(sum(r.max_points for r in judged), 4)
    ta_points = round(sum(r.max_points for r in left), 4)
    return (
        f"judged here: {format_points(points)}/{format_points(maximum)}; "
        f"checked by the TA: {format_points(ta_points)} points "
        f"({', '.join(r.part for r in left)})"
    )
