"""Problem 5 values from the student's kernel, validated before anything is judged.

Everything here came from the untrusted side (probes and the `p5_weights`
watch, see checks/kernel/p5_*). Each array passes through
`dlgrade.engine.expect_array` (shape, numeric dtype, finite where it must
be) and each number through `expect_number`; a value that does not is the
student's (their functions returned it) and becomes a `CheckFailed` naming
it, never a crash of the check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.scoring import CheckFailed
from dlgrade.engine import InterfaceError, Kept, expect_array, expect_number
from reference import numpy_backprop as ref

LAYERS = tuple(zip(ref.SIZES[:-1], ref.SIZES[1:], strict=True))
STARTER_HOLDER = "`weights` and `biases`"


class GraderError(RuntimeError):
    """The grader's own problem-5 code failed: a harness bug, reported as status `error`."""


@dataclass(frozen=True)
class Holder:
    """Where the notebook keeps its weights (found by shapes in the kernel) and how."""

    where: str  # e.g. "`weights` and `biases`" or "the dict `params` (W1, W2, W3, b1, b2, b3)"
    orientation: ref.Orientation

    @property
    def adapted(self) -> bool:
        """Not the starter's global lists: the grader reads and writes them where they are."""
        return self.where != STARTER_HOLDER

    def note(self) -> str:
        return (
            f"your weights are held in {self.where}; the grader read and set them there"
            if self.adapted
            else ""
        )


def holder_from(value: Any) -> Holder | None:
    """The kernel's description of the weights' holder (None: the notebook holds none)."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or value.get("orientation") not in ("in_out", "out_in")
        or not isinstance(value.get("where"), str)
    ):
        raise CheckFailed(f"the notebook's weights could not be read back: {str(value)[:200]}")
    return Holder(value["where"][:300], value["orientation"])


def shape_for(layer: int, orientation: ref.Orientation) -> tuple[int, int]:
    n_in, n_out = LAYERS[layer]
    return (n_in, n_out) if orientation == "in_out" else (n_out, n_in)


def orientation_of(shape: tuple[int, ...]) -> ref.Orientation | None:
    for orientation in ("in_out", "out_in"):
        if tuple(shape) == shape_for(0, orientation):  # the first layer is not square
            return orientation  # type: ignore[return-value]
    return None


def array(
    values: Mapping[str, Any],
    key: str,
    label: str,
    when: str,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
) -> np.ndarray:
    """values[key] validated as an array; a bad one is the student's, named by `label`."""
    if key not in values:
        raise CheckFailed(f"{when}, {label} was not found")
    try:
        return expect_array({label: values[key]}, label, shape=shape, finite=finite)
    except InterfaceError as err:  # ValueMismatch too: wrong shape, NaN, not numeric
        raise CheckFailed(f"{when}, {err}") from None


def number(values: Mapping[str, Any], key: str, label: str, when: str) -> float:
    """values[key] validated as one finite number."""
    if key not in values:
        raise CheckFailed(f"{when}, {label} was not found")
    try:
        return expect_number({label: values[key]}, label)
    except InterfaceError as err:
        raise CheckFailed(f"{when}, {err}") from None


def params_from(
    values: Mapping[str, Any],
    prefix: str,
    orientation: ref.Orientation,
    when: str,
    finite: bool = True,
) -> ref.Params:
    """The 3 layers emitted as `{prefix}w0..2` / `{prefix}b0..2`, validated.

    Weights must have the orientation's shapes; a bias may be a row, a column
    or flat, as long as it has n_out entries. `finite=False` lets a diverged
    run through (it is judged by its accuracy).
    """
    weights, biases = [], []
    for layer, (_, n_out) in enumerate(LAYERS):
        shape = shape_for(layer, orientation)
        label = f"weights[{layer}]"
        weights.append(array(values, f"{prefix}w{layer}", label, when, shape, finite))
        b = array(values, f"{prefix}b{layer}", f"biases[{layer}]", when, finite=finite)
        if b.size != n_out or b.ndim > 2:
            found = "x".join(map(str, b.shape)) or "one number"
            raise CheckFailed(
                f"{when}, biases[{layer}] has shape {found}; expected {n_out} entries"
            )
        biases.append(b.reshape(n_out))
    return ref.Params(tuple(weights), tuple(biases), orientation)


# --- The watch's history ---------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The notebook's weights at one moment: after `cell`, at an `event` ("init", "cell", "epoch")."""

    cell: int
    event: str
    params: ref.Params
    epochs: int = 0  # epochs the notebook had completed by then
    seen: str = ""  # how an epoch's end was seen, when not at train_one_epoch's return


@dataclass(frozen=True)
class WeightHistory:
    init: Snapshot | None
    holder: Holder | None  # where the initial weights were found
    later: tuple[Snapshot, ...]
    # Later snapshots that did not validate, as (event, message): set aside, so a notebook
    # that breaks numpy in its last cell does not take the initial weights down with it.
    unreadable: tuple[tuple[str, str], ...] = ()

    @property
    def epochs(self) -> tuple[Snapshot, ...]:
        """The weights after each epoch of the notebook's own training, in order."""
        return tuple(s for s in self.later if s.event == "epoch")


_META = re.compile(r"^(init|s\d+)$")


def weight_history(kept: Sequence[Kept]) -> WeightHistory:
    """The `p5_weights` watch's keeps as snapshots, each validated like a probe value."""
    values: dict[str, Any] = {}
    cells: dict[str, int] = {}
    metas: list[str] = []
    for item in kept:
        if item.key in values:
            continue  # keys are unique per snapshot; a repeat is not the watch's
        values[item.key], cells[item.key] = item.value, item.cell_index
        if _META.match(item.key) and isinstance(item.value, dict):
            metas.append(item.key)
    init, holder, later, unreadable = None, None, [], []
    for key in metas:
        meta, cell = values[key], cells[key]
        if key == "init":
            holder = holder_from(meta.get("holder"))
            init = Snapshot(cell, "init", _kept_params(values, key, cell, finite=True))
            continue
        event = meta.get("event") if meta.get("event") in ("cell", "epoch") else "cell"
        try:
            params = _kept_params(values, key, cell, finite=False)
        except CheckFailed as err:
            unreadable.append((event, err.message))
            continue
        epochs, seen = meta.get("epochs"), meta.get("seen")
        later.append(
            Snapshot(
                cell,
                event,
                params,
                epochs if isinstance(epochs, int) else 0,
                seen[:100] if isinstance(seen, str) else "",
            )
        )
    return WeightHistory(init, holder, tuple(later), tuple(unreadable))


def _kept_params(values: Mapping[str, Any], key: str, cell: int, finite: bool) -> ref.Params:
    when = f"the weights kept after cell {cell + 1}"
    first = array(values, f"{key}_w0", "weights[0]", when, (None, None), finite=False)
    orientation = orientation_of(first.shape)
    if orientation is None:
        found = "x".join(map(str, first.shape))
        raise CheckFailed(f"{when}, weights[0] has shape {found}; expected 784x32 or 32x784")
    return params_from(values, f"{key}_", orientation, when, finite=finite)
