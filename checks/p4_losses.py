"""Per-epoch train and test losses, found in the notebook's data or in its figures.

The probe reports every 1-D numeric series in the globals by its path: plain
lists (`train_losses`, `tr_loss`), arrays and tensors, dict entries
(`history['val_loss']` from a training function's return value), per-epoch
records (`history[*]['loss']`) and DataFrame columns. A loss series is one
whose name speaks of a loss (or whose values a loss figure plots), with
positive values, of the length of the training (the number of epochs, when
the notebook says it). Role (train or test) comes from the name; an unnamed
loss beside a test loss is the training loss (`loss` / `val_loss`). A validation
loss reads as a test loss, but beside a series named for the test set it is not one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from checks import p4_values as read
from checks.p4_figures import Curve, measure_of, role_of, words

MAX_EPOCHS = 1000
_TEST_SET = re.compile(r"test|\bte\b|\btst\b", re.I)  # the test set, not a validation split


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    source: str = "data"  # "data" (a variable) or "figure" (read from a plotted line)

    def describe(self) -> str:
        where = f"`{self.name}`" if self.source == "data" else f"the plotted line {self.name!r}"
        return f"{where} ({len(self.values)} values, {self.values[0]:.4g} -> {self.values[-1]:.4g})"


def epoch_counts(values: dict) -> set[int]:
    """Epoch counts the notebook states: `n_epochs = 20` (and a loop variable `epoch` = E - 1)."""
    counts = set()
    for name, value in read.mapping(values, "epochs", "the notebook's epoch counts").items():
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_EPOCHS:
            counts |= {value, value + 1} if _leaf(name) == "epoch" else {value}
    return counts


def _leaf(path: str) -> str:
    """`n_epochs` of `n_epochs`, `config['n_epochs']` or `args.n_epochs`."""
    return re.split(r"[.\[]", path)[-1].strip("'\"]").lower()


def loss_series(
    values: dict, curves: tuple[Curve, ...] = ()
) -> tuple[Series | None, Series | None]:
    """(train, test) per-epoch loss series from the probe's values, each None when not found.

    `curves`: plotted lines; a series whose values a loss curve plots counts as
    a loss even when its name does not say so.
    """
    epochs = epoch_counts(values)
    per_epoch = tuple(c for c in curves if c.over == "epochs")
    candidates = []
    for name, array in read.series(values).items():
        if not np.all(array > 0) or not _right_length(len(array), epochs):
            continue
        if any(c.over == "batches" and _same(c.y, array) for c in curves):
            continue  # the student plots it over mini-batches: not one value per epoch
        measure = measure_of(name) or _plotted_measure(array, per_epoch)
        if measure != "loss":
            continue
        candidates.append((Series(name, tuple(float(v) for v in array)), role_of(name)))
    return pair(candidates)


def pair(candidates: list[tuple[Series, str | None]]) -> tuple[Series | None, Series | None]:
    """The train and test series among (series, role), preferring both, a test series named
    for the test set over a validation one, equal lengths, short names."""
    train = [s for s, role in candidates if role == "train"]
    test = [s for s, role in candidates if role == "test"]
    unnamed = [s for s, role in candidates if role is None]
    if not train and test:
        train = unnamed  # `loss` beside `val_loss`, `losses` beside `test_losses`
    elif not test and not train:
        train = unnamed
    best, best_key = (None, None), None
    for t in train or [None]:
        for v in test or [None]:
            if t is None and v is None:
                continue
            same = t is not None and v is not None and len(t.values) == len(v.values)
            key = (
                t is not None and v is not None,
                v is not None and bool(_TEST_SET.search(words(v.name))),
                same,
                -len(t.name) if t else 0,
                -len(v.name) if v else 0,
            )
            if best_key is None or key > best_key:
                best, best_key = (t, v), key
    return best


def _right_length(length: int, epochs: set[int]) -> bool:
    if not 2 <= length <= MAX_EPOCHS:
        return False
    # an evaluation before the first epoch gives one more value than epochs
    return not epochs or length in epochs or length - 1 in epochs


def _plotted_measure(array: np.ndarray, curves: tuple[Curve, ...]) -> str | None:
    for curve in curves:
        if _same(curve.y, array):
            # an unlabelled plot: a falling curve is a loss, a rising one an accuracy
            return curve.measure or ("loss" if array[0] > array[-1] else None)
    return None


def over_batches(values: dict, curves: tuple[Curve, ...]) -> list[str]:
    """Names of the notebook's series that a figure plots over mini-batches, not epochs."""
    return [
        name
        for name, array in read.series(values).items()
        if any(c.over == "batches" and _same(c.y, array) for c in curves)
    ]


def _same(plotted: tuple[float, ...], values) -> bool:
    return len(plotted) == len(values) and bool(np.allclose(plotted, values, rtol=1e-5, atol=1e-8))


def curve_series(curves: tuple[Curve, ...]) -> tuple[Series | None, Series | None]:
    """(train, test) loss curves read from the figures (for notebooks keeping no list)."""
    return pair(
        [
            (Series(c.label or f"figure {c.figure + 1}", c.y, "figure"), c.role)
            for c in curves
            if c.over == "epochs"
            and c.measure == "loss"
            and len(c.y) >= 2
            and all(v > 0 for v in c.y)
        ]
    )


def plots(series: Series, curves: tuple[Curve, ...], role: str) -> Curve | None:
    """The plotted curve showing `series`: same values, or a loss curve of that role and length."""
    per_epoch = [c for c in curves if c.over == "epochs"]
    for curve in per_epoch:
        if _same(curve.y, series.values):
            return curve
    for curve in per_epoch:
        if curve.role == role and curve.measure == "loss" and len(curve.y) == len(series.values):
            return curve
    return None
