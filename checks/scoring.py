"""How a check reports its verdict: plain failure, partial credit, and comparison helpers.

A check passes by returning. It fails by raising `CheckFailed` (or any
`AssertionError`) with a message saying what was expected, what was found and
where to look. It earns part of the points by raising `PartialCredit`. The
grading plugin turns these into `dlgrade.records.CheckResult`s; points come
from the manifest, never from the check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest


class CheckFailed(AssertionError):
    """The student's work is wrong or missing; the message is shown to the student."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def skip_prerequisite(reason: str) -> None:
    """Skip the current check because something it needs is missing (0 points, this reason)."""
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
