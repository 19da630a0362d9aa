"""Reading problem-4 probe values: every value is validated before a check uses it.

The probe runs in the student's kernel, so what it emits is untrusted: each
array goes through `dlgrade.engine.expect_array` (shape, numeric dtype,
finite) and each structure is checked for its type. A value that fails
becomes a `CheckFailed` naming the value and what was wrong with it, the
student's failure (a model whose weights are NaN, an output of the wrong
shape), never a harness error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from checks.scoring import CheckFailed
from dlgrade.engine import InterfaceError, expect_array, expect_number


def array(
    values: dict[str, Any],
    key: str,
    what: str,
    *,
    shape: tuple[int | None, ...] | None = None,
    ndim: int | None = None,
) -> np.ndarray:
    """`values[key]` as a finite float array of the given shape, else CheckFailed about `what`."""
    try:
        return expect_array(values, key, shape=shape, ndim=ndim)
    except InterfaceError as err:
        raise CheckFailed(f"{what} could not be read: {err}") from None


def optional_array(
    values: dict[str, Any],
    key: str,
    what: str,
    *,
    shape: tuple[int | None, ...] | None = None,
    ndim: int | None = None,
) -> np.ndarray | None:
    """Like `array`, but None when the probe did not emit `key` at all."""
    return array(values, key, what, shape=shape, ndim=ndim) if key in values else None


def number(values: dict[str, Any], key: str, what: str) -> float:
    try:
        return expect_number(values, key)
    except InterfaceError as err:
        raise CheckFailed(f"{what} could not be read: {err}") from None


def records(values: dict[str, Any], key: str, what: str) -> list[dict]:
    """A JSON list of objects (empty when absent); anything else is a named failure."""
    raw = values.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise CheckFailed(f"{what} could not be read: {key!r} is not a list of records")
    return raw


def mapping(values: dict[str, Any], key: str, what: str) -> dict:
    raw = values.get(key, {})
    if not isinstance(raw, dict):
        raise CheckFailed(f"{what} could not be read: {key!r} is not a mapping")
    return raw


def text(record: dict, key: str, default: str = "") -> str:
    value = record.get(key, default)
    return value if isinstance(value, str) else default


def texts(record: dict, key: str) -> tuple[str, ...]:
    value = record.get(key, [])
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def integer(record: dict, key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def integers(record: dict, key: str) -> tuple[int, ...]:
    value = record.get(key, [])
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool))


def series(values: dict[str, Any]) -> dict[str, np.ndarray]:
    """The probe's numeric series by path, each a finite 1-D float array of length >= 2."""
    raw = mapping(values, "series", "the notebook's lists of numbers")
    found = {}
    for name in raw:
        if not isinstance(name, str):
            continue
        try:
            found[name] = expect_array(raw, name, ndim=1)
        except InterfaceError:
            continue  # a list with a NaN or a non-number is no loss curve; others may be
    return {k: v for k, v in found.items() if len(v) >= 2}
