"""Plain-text result table for the terminal (`dlgrade check`): aligned, no colour codes."""

from __future__ import annotations

import shutil

from dlgrade.records import STUDENT_FAULTS, GradeRecord, PartStatus
from reports.render import format_points
from reports.ta_checked import points_cell, split_total
from reports.views import first_line

# Statuses that fail a self-check: auto-graded points were lost (by the student or a bug).
FAILING = STUDENT_FAULTS | {PartStatus.PARTIAL, PartStatus.ERROR}
HEADERS = ("part", "points", "status", "message")


def failing_parts(record: GradeRecord) -> list[str]:
    return [r.part for r in record.results if r.status in FAILING]


def results_table(record: GradeRecord, width: int | None = None) -> str:
    """One aligned row per check; messages cut to fit the terminal width."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    rows = [
        (
            r.part,
            points_cell(r),
            r.status.upper() if r.status in FAILING else str(r.status),
            first_line(r.message),
        )
        for r in record.results
    ]
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(3)]
    room = max(width - sum(widths) - 3 * 2, 20)
    lines = []
    for row in [HEADERS, *rows]:
        message = row[3] if len(row[3]) <= room else row[3][: room - 1] + "…"
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2])]
        lines.append("  ".join([*cells, message]).rstrip())
    lines.insert(1, "-" * min(width, max(len(line) for line in lines)))
    return "\n".join(lines)


def check_summary(record: GradeRecord) -> str:
    """Table, sandbox observations and the verdict a student reads first."""
    parts = [results_table(record)] if record.results else ["no checks ran"]
    if record.observations:
        parts.append("\nwhat the sandbox saw:")
        parts += [f"  [{o.source}] {o.kind}: {o.message}" for o in record.observations]
    manual = sum(r.status == PartStatus.MANUAL for r in record.results)
    # On a student's machine some parts are the TA's: a plain total would count them as 0.
    split = split_total(record.results)  # names the parts graded by hand among the TA's
    verdict = split or f"total {format_points(record.total)}/{format_points(record.max_total)}"
    if manual and not split:
        verdict += f"; {manual} part(s) are graded by a TA later"
    if record.quick:
        verdict += "; quick mode: small data, indicative only"
    parts.append("\n" + verdict)
    failing = failing_parts(record)
    if record.status == "error":
        parts.append("GRADING ERROR: the checks could not run to the end (see above)")
    elif failing:
        parts.append(f"NOT PASSING: {', '.join(failing)}")
    else:
        parts.append("all visible auto-graded checks pass")
    return "\n".join(parts)
