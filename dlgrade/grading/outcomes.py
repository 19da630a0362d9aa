"""A check's outcome as a `CheckResult`: whose doing it is decides its status.

Only the checks' own verdict exceptions (`checks.scoring`) are the student's;
`pytest.skip` is the grader's choice; any other exception, a plain `assert` in a
check included, is a harness error.
"""

from __future__ import annotations

from typing import Any

import pytest

from dlgrade.records import PLEASE_REPORT, CheckResult, PartStatus


def outcome(part: Any, call: pytest.CallInfo[None], details: dict) -> CheckResult | None:
    """The CheckResult of one test phase; None when the phase decides nothing (setup passed).

    The student's: returning (passed), `PartialCredit` (partial), `CheckFailed`
    and `PrerequisiteFailed` (failed, malformed, timeout or interfered, as they
    carry). The grader's choice: `pytest.skip` (skipped). Everything else,
    the checks' own `assert` statements included, is a harness error: the
    traceback is in pytest's output (the grading log), the message says so.
    """
    # The checks' verdict exceptions; importing them here keeps the plugin loadable alone.
    from checks.scoring import CheckFailed, HandedToTA, PartialCredit, PrerequisiteFailed

    excinfo = call.excinfo
    if excinfo is None:
        if call.when != "call":
            return None
        return part_result(part, PartStatus.PASSED, part.points, "", details)
    error = excinfo.value
    if isinstance(error, pytest.skip.Exception):
        return part_result(part, PartStatus.SKIPPED, 0.0, error.msg or "skipped", details)
    if call.when == "teardown":
        return part_result(part, PartStatus.ERROR, 0.0, harness_error(error, "teardown"), details)
    if isinstance(error, HandedToTA):  # recognised but not runnable here: a TA grades it
        return part_result(part, PartStatus.MANUAL, 0.0, str(error), {**details, **error.details})
    if isinstance(error, PartialCredit):
        points = error.fraction * part.points
        return part_result(part, PartStatus.PARTIAL, points, str(error), details)
    if isinstance(error, CheckFailed):
        prerequisite = isinstance(error, PrerequisiteFailed)
        return part_result(part, error.status, 0.0, str(error), details, prerequisite)
    return part_result(part, PartStatus.ERROR, 0.0, harness_error(error), details)


def harness_error(error: BaseException, phase: str = "") -> str:
    """One line for a part the grader itself failed on."""
    where = f" in {phase}" if phase else ""
    text = str(error).strip().partition("\n")[0][:300]
    described = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"harness error{where} ({described}); {PLEASE_REPORT} (traceback in the grading log)"


def part_result(
    part: Any,
    status: PartStatus,
    points: float,
    message: str,
    details: dict,
    prerequisite: bool = False,
) -> CheckResult:
    # The TA awards manual parts; the check only gathers what they need. A missing
    # prerequisite (no notebook, tampering) leaves nothing to review, so it stands.
    verdict = status in (PartStatus.PASSED, PartStatus.PARTIAL, PartStatus.FAILED)
    if part.grading == "manual" and verdict and not prerequisite:
        status, points = PartStatus.MANUAL, 0.0
        message = message or "awaiting TA review"
    return CheckResult(
        part=part.id,
        name=part.title,
        points=round(float(points), 4),
        max_points=float(part.points),
        status=status,
        message=message,
        visibility=part.visibility,
        details=dict(details),
    )


def missing_check(part: Any) -> CheckResult:
    return CheckResult(
        part=part.id,
        name=part.title,
        points=0.0,
        max_points=float(part.points),
        status=PartStatus.ERROR,
        message=f"no check in checks/ grades this part; {PLEASE_REPORT}",
        visibility=part.visibility,
    )
