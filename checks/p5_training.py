"""Problem 5: what the notebook's own training started from, as the `p5_weights` watch kept it.

At the entry of the first training call (train_one_epoch or train_one_sample)
the watch keeps the weights it received (`start`), the dtypes of the held
arrays, and the first sample (`start_sample`); at the first complete weight
set it keeps the dtypes too (`init`). Everything here is untrusted and
validated like a probe value: a malformed keep is treated as not kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.p5_values import Holder, Snapshot, array, holder_from, orientation_of, params_from
from checks.scoring import CheckFailed
from dlgrade.engine import Kept


@dataclass(frozen=True)
class TrainingStart:
    """The weights the first training call received, and where they were held."""

    snapshot: Snapshot
    holder: Holder | None


@dataclass(frozen=True)
class Precision:
    """The float types the notebook computes in: its held arrays and the samples it trains on."""

    dtypes: tuple[str, ...]

    @property
    def lowest(self) -> str:
        """The narrowest float type among them ('float64' when none is a float)."""
        floats = [np.dtype(d) for d in self.dtypes if _is_float(d)]
        return str(min(floats, key=lambda d: d.itemsize)) if floats else "float64"


def _is_float(name: str) -> bool:
    try:
        return np.dtype(name).kind == "f"
    except (TypeError, ValueError):  # the kernel's words, not always a dtype
        return False


def _values(kept: Sequence[Kept]) -> tuple[dict[str, Any], dict[str, int]]:
    """Each key's first value and cell (a repeated key is not the watch's)."""
    values: dict[str, Any] = {}
    cells: dict[str, int] = {}
    for item in kept:
        if item.key not in values:
            values[item.key], cells[item.key] = item.value, item.cell_index
    return values, cells


def training_start(kept: Sequence[Kept]) -> TrainingStart | None:
    """The watch's `start`, or None when the notebook never trained (or it is malformed)."""
    values, cells = _values(kept)
    meta = values.get("start")
    if not isinstance(meta, dict):
        return None
    cell = cells["start"]
    when = f"the weights the training started from (cell {cell + 1})"
    try:
        first = array(values, "start_w0", "weights[0]", when, (None, None))
        orientation = orientation_of(first.shape)
        if orientation is None:
            return None
        params = params_from(values, "start_", orientation, when)
        holder = holder_from(meta.get("holder"))
    except CheckFailed:
        return None
    return TrainingStart(Snapshot(cell, "start", params), holder)


def precision(kept: Sequence[Kept]) -> Precision:
    """The dtypes the watch saw: the held arrays (initial and at the start of training) and
    the first sample the training received."""
    values, _ = _values(kept)
    dtypes: list[str] = []
    for key in ("init", "start", "start_sample"):
        meta = values.get(key)
        if isinstance(meta, Mapping):
            found = meta.get("dtypes", [meta.get("dtype")])
            if isinstance(found, list):
                dtypes += [d[:20] for d in found if isinstance(d, str) and d]
    return Precision(tuple(dtypes))


def first_sample(kept: Sequence[Kept]) -> np.ndarray | None:
    """The first sample the notebook's training received (784 values), or None."""
    values, _ = _values(kept)
    if "start_sample_x" not in values:
        return None
    try:
        return array(values, "start_sample_x", "the first training sample", "kept", (784,))
    except CheckFailed:
        return None
