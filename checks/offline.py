"""What a check may ask of the reference on a student's machine, and what it may not.

The student bundle (`dlgrade bundle student`) ships the same checks as the
grader but no reference solution: its `reference` package is a stand-in whose
functions answer only the calls on the fixed inputs the checks use (expected
losses, updates and gradients from the grader's fixed start), read from a
table the real reference computed when the bundle was built. Any other call
raises `NotOnStudentMachine`, a pytest skip: the part is "checked by the TA",
never failed for a value the student's machine cannot know. In the grader
nothing raises it; `unless_offline` lets a check keep a diagnosis that needs
the reference on the student's own values as an optional extra.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Callable
from functools import cached_property
from importlib import resources
from typing import Any, TypeVar

import numpy as np
import pytest

T = TypeVar("T")
TABLES = "_tables"  # folder of the stand-in `reference` package that holds the tables
TA_ONLY = "checked by the TA: it needs {what}, which a student's machine does not have"


class NotOnStudentMachine(pytest.skip.Exception):
    """The bundle's stand-in reference cannot answer this call; the part is skipped."""

    def __init__(self, what: str) -> None:
        super().__init__(TA_ONLY.format(what=what))
        self.what = what


def unless_offline(compute: Callable[[], T], fallback: T) -> T:
    """`compute()`, or `fallback` when it needs the reference on a student's machine."""
    try:
        return compute()
    except NotOnStudentMachine:
        return fallback


def call_key(name: str, args: tuple, kwargs: dict) -> str | None:
    """A digest of one call (values, dtypes and shapes), or None for values it cannot read."""
    digest = hashlib.sha256(name.encode("utf-8"))
    try:
        _feed(digest, (args, kwargs))
    except TypeError:
        return None
    return digest.hexdigest()


def _feed(digest: Any, value: object) -> None:
    """Feed a canonical, type-tagged encoding of `value` to `digest`."""
    if isinstance(value, np.ndarray):
        header = f"A{value.dtype.str}{value.shape}".encode()
        digest.update(header + np.ascontiguousarray(value).tobytes())
    elif isinstance(value, bool | np.bool_):
        digest.update(b"B1" if value else b"B0")
    elif isinstance(value, int | np.integer):
        digest.update(f"I{int(value)};".encode())
    elif isinstance(value, float | np.floating):
        digest.update(f"F{float(value).hex()};".encode())
    elif isinstance(value, str):
        digest.update(f"S{len(value)}:{value}".encode())
    elif value is None:
        digest.update(b"N")
    elif isinstance(value, tuple | list):
        digest.update(f"L{len(value)}(".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"M{len(value)}(".encode())
        for key in sorted(value):
            _feed(digest, str(key))
            _feed(digest, value[key])
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"D{type(value).__name__}(".encode())
        for item in dataclasses.fields(value):
            _feed(digest, getattr(value, item.name))
    else:
        raise TypeError(f"cannot key a {type(value).__name__}")


class ReferenceTable:
    """One stand-in module's precomputed answers: call key -> the reference's result.

    Read on first use: the results hold the stand-in's own record types (`Params`),
    which exist only once its module has run to the end.
    """

    def __init__(self, module: str) -> None:
        self.module = module  # e.g. "numpy_backprop"

    @classmethod
    def load(cls, module: str) -> ReferenceTable:
        return cls(module)

    @cached_property
    def entries(self) -> dict[str, Any]:
        """The table the bundle holds for `reference.<module>` (empty when it holds none)."""
        path = resources.files("reference").joinpath(TABLES, f"{self.module}.pickle")
        if not path.is_file():
            return {}
        # The course's own file, written by `dlgrade bundle student` beside this code.
        return pickle.loads(path.read_bytes())

    def serve(self, name: str, args: tuple, kwargs: dict) -> Any:
        """The reference's result for this call, or `NotOnStudentMachine`."""
        key = call_key(name, args, kwargs)
        if key is None or key not in self.entries:
            raise NotOnStudentMachine(
                f"the reference solution ({self.module}.{name}) on these values"
            )
        return _fresh(self.entries[key])


def withheld(module: str, name: str) -> NotOnStudentMachine:
    """The error for a reference constant the bundle does not hold (an answer)."""
    return NotOnStudentMachine(f"the reference solution ({module}.{name})")


def _fresh(value: T) -> T:
    """A private copy, so a check that changes a result cannot change the table."""
    return pickle.loads(pickle.dumps(value))
