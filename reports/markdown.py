"""The points table as GitHub-flavoured Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY).

Student messages can hold `|`, `<` or newlines; they are escaped so the table
stays a table and nothing in a message renders as HTML.
"""

from __future__ import annotations

import html

from dlgrade.records import GradeRecord
from reports.render import format_points
from reports.summaries import judged_percent, judged_totals
from reports.views import first_line

ICONS = {
    "passed": "✅", "partial": "🟡", "failed": "❌", "malformed": "❌", "timeout": "⏱️",
    "interfered": "⛔", "skipped": "⏭️", "manual": "📝", "error": "⚠️",
}  # fmt: skip
MESSAGE_CHARS = 240


def cell(text: str) -> str:
    """One table cell: first line only, HTML-escaped, pipes escaped, capped."""
    line = first_line(text)
    if len(line) > MESSAGE_CHARS:
        line = line[: MESSAGE_CHARS - 1] + "…"
    return html.escape(line, quote=False).replace("|", "\\|")


def job_summary(
    record: GradeRecord, fail_under: float | None = None, artifact: str = "dlgrade-report"
) -> str:
    """Heading with the score, the points table, what the sandbox saw, and the verdict."""
    points, maximum = judged_totals(record)
    percent = judged_percent(record)
    score = f"{format_points(points)} / {format_points(maximum)} points"
    score += f" ({percent:g} %)" if percent is not None else ""
    lines = [f"### dlgrade self-check: {cell(record.student) or 'submission'}: {score}", ""]
    mode = "quick mode (small data: indicative only)" if record.quick else "full data"
    lines += [
        f"{record.assignment or 'edition unknown'} · {mode} · sandbox: "
        f"{cell(record.isolation) or 'not recorded'}",
        "",
    ]
    if record.status == "error":
        lines += [
            "**The checks could not run to the end.** See the log in the report artifact.",
            "",
        ]
    if record.results:
        lines += ["| part | points | status | message |", "| --- | ---: | --- | --- |"]
        for r in record.results:
            lines.append(
                f"| {cell(r.part)} | {format_points(r.points)}/{format_points(r.max_points)} | "
                f"{ICONS.get(r.status, '')} {r.status} | {cell(r.message)} |"
            )
        lines.append("")
    if record.observations:
        lines += ["<details><summary>What the sandbox saw</summary>", ""]
        lines += [f"- {cell(f'[{o.source}] {o.kind}: {o.message}')}" for o in record.observations]
        lines += ["", "</details>", ""]
    lines.append(verdict(record, percent, fail_under))
    lines += [
        "",
        f"The full report (plots, expected against found) is in the `{artifact}` artifact.",
        "",
    ]
    return "\n".join(lines)


def verdict(record: GradeRecord, percent: float | None, fail_under: float | None) -> str:
    pending = [r.part for r in record.results if r.status == "manual"]
    notes = f" {len(pending)} part(s) are graded by a TA later." if pending else ""
    if record.status == "error":
        return "**Result: the checks could not run.**" + notes
    if fail_under is None:
        return "**Result:** this job does not fail on points (no `fail-under` set)." + notes
    if percent is None:
        return (
            f"**Result: passes**: nothing was judged, so nothing is below {fail_under:g} %." + notes
        )
    if percent < fail_under:
        return f"**Result: fails**: {percent:g} % is below the required {fail_under:g} %." + notes
    return f"**Result: passes**: {percent:g} % meets the required {fail_under:g} %." + notes
