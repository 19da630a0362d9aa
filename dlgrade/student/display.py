"""What a student sees after `grader.check(...)`: a small HTML table in Jupyter, text elsewhere."""

from __future__ import annotations

import html
from dataclasses import dataclass

from dlgrade.records import CheckResult
from dlgrade.student.session import LiveCheck
from reports.render import format_points
from reports.ta_checked import points_cell, split_total
from reports.views import first_line

COLOURS = {"passed": "#1a7f37", "partial": "#9a6700", "skipped": "#57606a"}
FAILING = ("failed", "partial", "malformed", "timeout", "interfered")
LIVE_HINT = (
    "checked on what your kernel holds now: run all cells first, and rerun a cell whose "
    "values later cells changed (the initial weights, say); `dlgrade check` runs the "
    "whole notebook"
)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of one in-notebook check; Jupyter shows it as a table."""

    results: tuple[CheckResult, ...]
    notes: tuple[str, ...] = ()
    error: str = ""  # the checks could not run; the end of their log

    @classmethod
    def from_live(cls, live: LiveCheck, notes: tuple[str, ...] = ()) -> CheckReport:
        if live.exit_code == 2 and live.record is None:
            return cls((), notes, "interrupted")
        if live.record is None:
            return cls(
                (), notes, f"the checks could not run (pytest exit {live.exit_code}):\n{live.log}"
            )
        return cls(tuple(live.record.results), notes + tuple(live.notes))

    @property
    def passed(self) -> bool:
        """Every part checked here passed (False when nothing was checked)."""
        return bool(self.results) and all(r.status == "passed" for r in self.results)

    def hint(self, result: CheckResult) -> str:
        # Parts judged from the notebook name it in `source`; only they depend on kernel state.
        if result.status in FAILING and "source" in result.details:
            return LIVE_HINT
        return ""

    def __str__(self) -> str:
        lines = []
        for r in self.results:
            points = points_cell(r)
            lines.append(f"{r.part:<10} {points:>7}  {r.status:<8} {first_line(r.message)}")
            for key in ("found", "note"):
                if isinstance(r.details.get(key), str):
                    lines.append(f"{'':<20}{key}: {r.details[key]}")
            if self.hint(r):
                lines.append(f"{'':<20}({self.hint(r)})")
        if self.results:
            lines.append(self.total_line())
        lines += [f"note: {n}" for n in self.notes]
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines) or "nothing was checked"

    def __repr__(self) -> str:
        return str(self)

    def total_line(self) -> str:
        passing = sum(r.status == "passed" for r in self.results)
        counted = f"{passing} of {len(self.results)} part(s) pass; "
        # Parts the TA checks scored 0 here: say so rather than count them as lost.
        split = split_total(self.results)
        if split:
            return counted + split
        points = sum(r.points for r in self.results)
        maximum = sum(r.max_points for r in self.results)
        return counted + f"{format_points(points)}/{format_points(maximum)} points checked here"

    def _repr_html_(self) -> str:
        rows = "".join(self._html_row(r) for r in self.results)
        parts = []
        if rows:
            parts.append(
                '<table class="dlgrade-check" style="border-collapse:collapse">'
                "<tr><th style='text-align:left;padding:2px 8px'>part</th>"
                "<th style='text-align:right;padding:2px 8px'>points</th>"
                "<th style='text-align:left;padding:2px 8px'>message</th></tr>"
                f"{rows}</table><p>{html.escape(self.total_line())}</p>"
            )
        parts += [f"<p><i>{html.escape(note)}</i></p>" for note in self.notes]
        if self.error:
            parts.append(f"<pre style='color:#cf222e'>{html.escape(self.error)}</pre>")
        return "".join(parts) or "<p>nothing was checked</p>"

    def _html_row(self, r: CheckResult) -> str:
        colour = COLOURS.get(r.status, "#cf222e")
        extra = [
            f"{key}: {r.details[key]}"
            for key in ("found", "note")
            if isinstance(r.details.get(key), str)
        ]
        if self.hint(r):
            extra.append(self.hint(r))
        detail = "".join(
            f"<br><small style='color:#57606a'>{html.escape(text)}</small>" for text in extra
        )
        return (
            "<tr style='border-top:1px solid #d0d7de'>"
            f"<td style='padding:2px 8px;vertical-align:top'><b>{html.escape(r.part)}</b></td>"
            f"<td style='padding:2px 8px;text-align:right;vertical-align:top;color:{colour}'>"
            f"{points_cell(r)}<br>{html.escape(r.status)}</td>"
            f"<td style='padding:2px 8px;vertical-align:top'>{html.escape(r.message) or 'correct'}"
            f"{detail}</td></tr>"
        )
