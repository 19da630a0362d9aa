"""How a check reports its verdict: failure, partial credit, prerequisites, comparisons.

A check passes by returning. It fails by raising `CheckFailed` with a message
saying what was expected, what was found and where to look. It earns part of
the points by raising `PartialCredit`. When something it needs is missing
through the student's doing (no notebook, an unreadable file, a kernel that
died or ran out of time, tampering), it calls `prerequisite_failed(reason,
status)`. Only these exceptions are the student's: anything else a check
raises, its own `assert` statements included, is a harness error (status
`error`, "please report"). `not_graded(reason)` leaves a part out of this run
by the grader's choice (status `skipped`, e.g. quick mode). The grading
plugin turns all of these into `dlgrade.records.CheckResult`s; points come
from the manifest, never from the check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NoReturn

import numpy as np
import pytest

from dlgrade.records import STUDENT_FAULTS, PartStatus


class CheckFailed(AssertionError):
    """The student's work is wrong or missing; the message is shown to the student.

    `status` is one of the student's statuses (failed, malformed, timeout,
    interfered); all of them score 0.
    """

    def __init__(self, message: str, status: PartStatus = PartStatus.FAILED) -> None:
        status = PartStatus(status)
        if status not in STUDENT_FAULTS:
            raise ValueError(f"CheckFailed takes a student's status, not {status!r}")
        super().__init__(message)
        self.message = message
        self.status = status


class PrerequisiteFailed(CheckFailed):
    """Something the check needs is missing through the student's doing.

    Unlike a failure found by the check itself, it also stands on manual
    parts: there is nothing for a TA to review.
    """


class HandedToTA(AssertionError):
    """The grader recognises the work but cannot judge it: a TA grades the part (`manual`).

    `details` is what the TA needs to grade it (saved figures, printed outputs),
    shown in the report; no points until the TA merges theirs.
    """

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


class ForReview(str):
    """A reason that hands every part of a problem to a TA, carrying what they need to see.

    It travels where a prerequisite's reason does (`ProblemRun.reason`), so a
    check's fixture that ends with `prerequisite_failed(reason, status)` hands
    the part over unchanged.
    """

    details: dict

    def __new__(cls, text: str, details: dict) -> ForReview:
        reason = super().__new__(cls, text)
        reason.details = dict(details)
        return reason


class PartialCredit(AssertionError):
    """The work is partly right: award `fraction` of the part's points."""

    def __init__(self, fraction: float, message: str) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"partial-credit fraction must lie in [0, 1], got {fraction}")
        super().__init__(message)
        self.fraction = float(fraction)
        self.message = message


def describe(value: object) -> str:
    """A short, student-readable rendering of a number, vector or matrix."""
    array = np.asarray(value)
    if array.dtype == object:
        return repr(value)
    if array.ndim == 0:
        return f"{float(array) + 0.0:.6g}"  # + 0.0 prints -0.0 as 0
    if array.ndim == 1:
        return "(" + ", ".join(f"{float(v) + 0.0:.6g}" for v in array) + ")"
    return f"a {'x'.join(str(s) for s in array.shape)} matrix"


def describe_shape(shape: tuple[int, ...]) -> str:
    if len(shape) == 0:
        return "a number"
    if len(shape) == 1:
        return f"a vector of length {shape[0]}"
    return f"a {'x'.join(str(s) for s in shape)} matrix"


def expect_close(
    found: object,
    expected: object,
    *,
    what: str,
    where: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> None:
    """Raise `CheckFailed` unless `found` has `expected`'s shape and is close to it."""
    found_array = np.asarray(found, dtype=float)
    expected_array = np.asarray(expected, dtype=float)
    suffix = f" ({where})" if where else ""
    if found_array.shape != expected_array.shape:
        raise CheckFailed(
            f"{what}: expected {describe_shape(expected_array.shape)}, "
            f"found {describe_shape(found_array.shape)}{suffix}"
        )
    if not np.allclose(found_array, expected_array, rtol=rtol, atol=atol):
        raise CheckFailed(
            f"{what}: expected {describe(expected_array)}, found {describe(found_array)}{suffix}"
        )


def wrong_entries(
    found: Sequence[float],
    expected: Sequence[float],
    labels: Sequence[str],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> list[str]:
    """One 'label expected E, found F' line per entry that differs."""
    lines = []
    for label, got, want in zip(labels, found, expected, strict=True):
        if not np.isclose(got, want, rtol=rtol, atol=atol):
            lines.append(f"{label} expected {want:.6g}, found {got:.6g}")
    return lines


def prerequisite_failed(reason: str, status: PartStatus = PartStatus.FAILED) -> NoReturn:
    """End the current check: something it needs is missing through the student's doing.

    `status`: failed (no notebook, a name not defined, a kernel their code
    killed), malformed (unreadable file), timeout (ran past a limit) or
    interfered (tampering). 0 points, with `reason` as the message. `manual`
    (with a `ForReview` reason) hands the part to a TA instead.
    """
    if PartStatus(status) == PartStatus.MANUAL:
        raise HandedToTA(str(reason), getattr(reason, "details", None))
    raise PrerequisiteFailed(reason, status)


def skip_prerequisite(reason: str) -> NoReturn:
    """Older name of `prerequisite_failed(reason)`: a student's missing prerequisite is `failed`.

    Kept so checks written before the status vocabulary keep SPEC's meaning;
    use `prerequisite_failed` (student's doing) or `not_graded` (grader's choice).
    """
    prerequisite_failed(reason)


def not_graded(reason: str) -> NoReturn:
    """Leave the current part out of this run by the grader's choice (`skipped`, not graded)."""
    pytest.skip(reason)


class CheckRecord:
    """Details for the current check's `CheckResult`; values must be JSON-serialisable."""

    def __init__(self, details: dict) -> None:
        self._details = details

    def add(self, key: str, value: object) -> None:
        try:
            json.dumps(value)
        except TypeError as exc:
            raise TypeError(f"detail {key!r} is not JSON-serialisable: {exc}") from exc
        self._details[key] = value
