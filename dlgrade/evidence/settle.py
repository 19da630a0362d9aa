"""A regraded record, settled against the record it replaces.

What a regrade does not decide stays as it was: a TA's manual scores, the parts
not asked for, the LMS identities and lateness. A record judged wholly from
evidence keeps the duration and devices of the grading that made the evidence
(they describe that run), so re-judging unchanged evidence with unchanged
checks writes the same record, byte for byte.

The grading process settles its own record before it renders the student's page
(`settled_in`), so a regrade renders each page once; `settle` is idempotent, and
the regrade settles again only the records no grading process settled (one that
crashed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dlgrade.evidence.store import EVIDENCE_DIR, read_uses
from dlgrade.grading.outputs import GRADE_FILE, OutputError, read_record
from dlgrade.records import REVIEW_KEY, GradeRecord, ObservationKind


def settled_in(work_dir: Path, new: GradeRecord, parts: Sequence[str]) -> GradeRecord:
    """`new` settled against `work_dir`/grade.json (as it is when that is unreadable)."""
    try:
        previous = read_record(work_dir / GRADE_FILE)
    except OutputError:
        return new  # nothing to settle against: the regrade says so from its side
    executed = any(use.executed for use in read_uses(work_dir / EVIDENCE_DIR))
    return settle(previous, new, parts, executed)


def settle(
    previous: GradeRecord, new: GradeRecord, parts: Sequence[str], executed: bool
) -> GradeRecord:
    """The regraded record: new verdicts, except a TA's scores and parts not asked for."""
    old = {r.part: r for r in previous.results}
    results = [
        old[r.part]
        if r.part in old and (REVIEW_KEY in old[r.part].details or (parts and r.part not in parts))
        else r
        for r in new.results
    ]
    record = replace(new, results=results, identities=previous.identities, late=previous.late)
    if executed or new.status == "error":
        return record
    # Judged wholly from evidence: the run it describes is the earlier one.
    devices = [o for o in previous.observations if o.kind == ObservationKind.DEVICES]
    notes = [o for o in record.observations if o.kind != ObservationKind.DEVICES]
    return replace(record, duration_s=previous.duration_s, observations=notes + devices)
