"""What `dlgrade grade` prints when a class is graded: what ran, the scores, what needs a
look, and where the class report is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dlgrade.grading.batch import BatchOutcome
from dlgrade.records import PLEASE_REPORT, GradeRecord
from dlgrade.text import readable
from reports.summaries import hardest_part


def summary_lines(outcome: BatchOutcome, out: Path) -> Sequence[str]:
    """What ran, the scores, what needs a look (three lines), then the class report's path."""
    lines = [
        _run_line(outcome, out),
        _scores_line(outcome.records),
        _attention_line(outcome, out),
        f"class report: {out / 'index.html'}",
    ]
    if outcome.out_full:
        lines.append(
            f"OUT IS FULL: {outcome.out_full}; no grade was half-written: free space in {out} "
            "and run the same command again, it grades those left and rewrites the class files"
        )
    return [readable(line) for line in lines]  # a name that is not UTF-8 must print too


def _run_line(outcome: BatchOutcome, out: Path) -> str:
    line = f"graded {len(outcome.graded)} submission(s) in {outcome.wall_s:.1f} s"
    if outcome.resumed:
        line += f", {len(outcome.resumed)} already graded in {out} (--force regrades)"
    if outcome.kept_full:
        line += (
            f", {len(outcome.kept_full)} of them graded in full mode and kept "
            "(a quick run never replaces a full grade; --force does)"
        )
    if any(r.quick for r in outcome.records):
        line += (
            "; quick mode: trained on data slices, indicative only (drop --quick for real grades)"
        )
    if outcome.intake and outcome.intake.layout != "folders":
        line += f"; read as a {outcome.intake.layout} export"
    return line


def _scores_line(records: Sequence[GradeRecord]) -> str:
    # graded_percent leaves out parts the harness failed on and parts not graded
    scored = sorted(
        (percent, r.student) for r in records if (percent := r.graded_percent()) is not None
    )
    if not scored:
        return "scores: none (no submission could be graded)"
    mean = sum(score for score, _ in scored) / len(scored)
    (low, lowest), (high, highest) = scored[0], scored[-1]
    line = f"scores: mean {mean:.1f} %, lowest {low:.1f} % ({lowest}), highest {high:.1f} % ({highest})"
    hardest = hardest_part(records)
    if hardest:
        part, passed, judged = hardest
        line += f"; hardest part {part} (passed by {passed} of {judged})"
    return line


def _attention_line(outcome: BatchOutcome, out: Path) -> str:
    errors = outcome.errors
    error_note = (
        f" ({', '.join(errors)}: see their report.html; {PLEASE_REPORT}; after a fix "
        "regrade one with dlgrade grade DIR --out OUT --force --only NAME)"
    )
    manual = sum(r.status == "manual" for record in outcome.records for r in record.results)
    pairs = len(outcome.similarity.pairs) if outcome.similarity else 0
    pairs_note = f" ({out / 'similarity.html'})"
    items = [
        f"{len(errors)} grading error(s)" + (error_note if errors else ""),
        f"{manual} part(s) awaiting a TA (dlgrade merge-manual)",
        f"{pairs} pair(s) of similar code" + (pairs_note if pairs else ""),
    ]
    if outcome.intake and outcome.intake.unassigned:
        unassigned = len(outcome.intake.unassigned)
        items.append(f"{unassigned} file(s) belonging to no student (listed in the class report)")
    if outcome.similarity_error:
        items.append(outcome.similarity_error)
    return "to look at: " + ", ".join(items)
