"""Problem 5 judging helpers: pure functions on values the grader has already validated.

Each answers one question the checks ask: how far is an update from the
reference, is it the reference times a constant (and what would explain
that constant), which input scale does a function use, were the weights
drawn from `default_rng(80085)`, what did `feed_forward_dataset` print, and
how did the notebook scale its inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.random import default_rng

from checks.scoring import CheckFailed, PartialCredit
from reference import numpy_backprop as ref

# Input scales a student's function may apply itself: none, or 0-255 to [0, 1].
SCALES = (1.0, 1 / 255)
SEED_RTOL = 1e-6  # float32 storage of the right draws still matches; other streams never do
UNIFORM_RTOL = 1e-6
# Q3: how close an update must come to the reference, by the bytes of the float type the
# student computes in. A step computed in float32 lands 4e-5..7e-5 from the float64 one
# (measured on MNIST samples); known mistakes are off by 1e-2 and more.
UPDATE_RTOL = {8: 1e-8, 4: 1e-3}


# --- Q3: one SGD step -------------------------------------------------------------


def update_rtol(dtype: str) -> float:
    """The Q3 tolerance for a student who computes in `dtype` (float64 when wider)."""
    return UPDATE_RTOL[8] if np.dtype(dtype).itemsize >= 8 else UPDATE_RTOL[4]


def update_error(
    start: ref.Params, found: ref.Params, expected: ref.Params, dtype: str = "float64"
) -> float:
    """Largest per-layer relative difference between two updates (new - start).

    Each layer is measured against its own expected update, so a wrong first
    layer (whose update is tiny with raw inputs) is not hidden by the others;
    a layer whose expected update is negligible is measured against the
    largest one instead. Non-finite parameters are infinitely wrong. Below
    float64 (`dtype`), a difference the size of the rounding of the stored
    weights counts as at most that precision's tolerance, not as a wrong update.
    """
    pairs = list(
        zip(
            start.weights + start.biases,
            found.weights + found.biases,
            expected.weights + expected.biases,
            strict=True,
        )
    )
    scale = max(float(np.abs(e - s).max()) for s, _, e in pairs)
    narrow = np.dtype(dtype).itemsize < 8
    worst = 0.0
    for s, f, e in pairs:
        if not np.all(np.isfinite(f)):
            return float("inf")
        rounding = (
            float(np.finfo(dtype).eps * np.abs(s).max()) / update_rtol(dtype) if narrow else 0.0
        )
        denominator = max(float(np.abs(e - s).max()), 1e-6 * scale, rounding, 1e-300)
        worst = max(worst, float(np.abs((f - s) - (e - s)).max()) / denominator)
    return worst


def uniform_factor(start: ref.Params, found: ref.Params, expected: ref.Params) -> float | None:
    """c when the found update is c times the expected one in every layer, else None."""
    found_steps = np.concatenate(
        [(f - s).ravel() for f, s in zip(_all(found), _all(start), strict=True)]
    )
    expected_steps = np.concatenate(
        [(e - s).ravel() for e, s in zip(_all(expected), _all(start), strict=True)]
    )
    norm = float(expected_steps @ expected_steps)
    if norm == 0 or not np.all(np.isfinite(found_steps)):
        return None
    c = float(found_steps @ expected_steps) / norm
    if c == 0:
        return None
    scaled = ref.Params(
        tuple(s + c * (e - s) for s, e in zip(start.weights, expected.weights, strict=True)),
        tuple(s + c * (e - s) for s, e in zip(start.biases, expected.biases, strict=True)),
        start.orientation,
    )
    return c if update_error(start, found, scaled) <= UNIFORM_RTOL else None


def telling_factor(c: float) -> bool:
    """Whether a constant factor explains anything: not 1 to the digits it is shown with."""
    return name_factor(c) != "1 times"


def _all(params: ref.Params) -> tuple[np.ndarray, ...]:
    return params.weights + params.biases


def name_factor(c: float) -> str:
    """'1/784 of', '2 times', '10/3 times', '-1 times', '0.1234 times': c in words."""
    fraction = Fraction(c).limit_denominator(1000)
    if fraction.numerator and abs(float(fraction) - c) <= 1e-9 * abs(c):
        p, q = fraction.numerator, fraction.denominator
        if q == 1:
            return f"{p} times"
        return f"{p}/{q} of" if 0 < c < 1 else f"{p}/{q} times"
    return f"{c:.4g} times"


_COMMON_RATES = (1.0, 0.5, 0.3, 0.1, 0.05, 0.03, 0.01, 0.005, 0.001, 0.0005, 0.0001)


def factor_hint(c: float, lr: float = ref.LEARNING_RATE) -> str:
    """A likely cause of an update that is c times the correct one ('' when none is known)."""

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-6 * abs(b)

    if near(c, 1 / 784) or near(c, 1 / 28):
        return "did you divide by the sample length?"
    if near(c, 1 / 10):
        return "did you divide by the number of classes?"
    if near(c, -1):
        return "it goes uphill: subtract learning_rate * gradient, do not add it"
    if near(c * lr, 1):
        return f"is the learning rate ({lr:g}) applied?"
    if near(c, lr):
        return "is the learning rate applied twice?"
    for rate in _COMMON_RATES:
        if near(c * lr, rate):
            return f"it matches a learning rate of {rate:g}, not the {lr:g} passed to the function"
    return ""


def scale_diagnosis(c: float, lr: float = ref.LEARNING_RATE) -> str:
    """'your update is 1/784 of the correct one: did you divide by the sample length?'"""
    hint = factor_hint(c, lr)
    return f"your update is {name_factor(c)} the correct one" + (f": {hint}" if hint else "")


# --- Input scale of one function ------------------------------------------------------


def infer_scale(error_at: Callable[[float], float]) -> tuple[float, float]:
    """(factor, error): the input scale in SCALES under which the function is closest to the
    reference, 1 first on a tie. The caller decides whether that error is small enough."""
    errors = [(error_at(factor), index) for index, factor in enumerate(SCALES)]
    error, index = min(errors, key=lambda e: (np.nan_to_num(e[0], nan=np.inf), e[1]))
    return SCALES[index], error


def init_statistics(layer: int, w: np.ndarray, fan: int, stds: list[str]) -> list[str]:
    """Std within a statistical band of 1/sqrt(fan), mean near 0 (5 standard errors)."""
    expected = 1 / np.sqrt(fan)
    found = float(w.std())
    stds.append(f"std(weights[{layer}]) = {found:.4f}")
    band = 5 / np.sqrt(2 * w.size) + 0.01  # relative standard error of a sample std
    problems = []
    if abs(found / expected - 1) > band:
        problems.append(
            f"weights[{layer}] has standard deviation {found:.4g}; expected "
            f"1/sqrt(max(n_in, n_out)) = 1/sqrt({fan}) = {expected:.4g} (within {band:.0%})"
        )
    if abs(float(w.mean())) > 5 * expected / np.sqrt(w.size):
        problems.append(f"weights[{layer}] has mean {w.mean():.3g}; expected about 0")
    return problems


# --- Q1: was the asked generator used? ---------------------------------------------


def seed_layout(weights: Sequence[np.ndarray]) -> list[str] | None:
    """How each layer was drawn from one `default_rng(80085)` stream, or None when it was not.

    Students draw in several ways that all take the same standard normals in
    order: rng.normal(0, sd, size) (numpy computes loc + scale * standard
    normal), rng.standard_normal(size) * sd, either shape, possibly transposed
    afterwards. So each layer must be a constant multiple of the next block
    of the stream, in its stored shape or drawn transposed.
    """
    stream = default_rng(ref.SEED).standard_normal(sum(w.size for w in weights))
    layouts, offset = [], 0
    for w in weights:
        block = stream[offset : offset + w.size]
        offset += w.size
        for transposed in (False, True):
            drawn = w.shape[::-1] if transposed else w.shape
            candidate = block.reshape(drawn).T if transposed else block.reshape(drawn)
            scale = float((w * candidate).sum() / (candidate * candidate).sum())
            if np.abs(w - scale * candidate).max() <= SEED_RTOL * np.abs(w).max():
                layouts.append("x".join(map(str, drawn)) + (" transposed" if transposed else ""))
                break
        else:
            return None
    return layouts


def unseeded(credit: float, message: str) -> str:
    """The verdict on weights with the asked distribution from another stream, by the
    manifest's `unseeded_credit`: the note to show at full credit, else a deduction."""
    if credit <= 0:
        raise CheckFailed(message)
    if credit < 1:
        raise PartialCredit(credit, message)
    return message


# --- Q2: what feed_forward_dataset printed --------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Printed:
    """A number as printed, with the precision its digits show (one unit of the last digit)."""

    value: float
    unit: float

    def matches(self, exact: float) -> bool:
        return abs(self.value - exact) <= max(self.unit, 1e-6 * abs(exact))


def printed_numbers(text: str) -> list[Printed]:
    numbers = []
    for token in _NUMBER.findall(text):
        mantissa, _, exponent = token.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        unit = 10.0 ** (int(exponent or 0) - decimals)
        numbers.append(Printed(float(token), unit))
    return numbers


def dataset_report_problems(text: str, loss: float, correct: int, total: int) -> list[str]:
    """What is wrong with feed_forward_dataset's report of `loss` and `correct`/`total`.

    The starter prints "Average loss: 2.38" and "Accuracy (# of correct
    guesses): 5.0 / 40 ( 12.50 %)"; any wording is accepted as long as a line
    about the loss shows the average loss and a line about accuracy shows the
    count, the percentage or the fraction, each to the digits printed.
    """
    lines = text.splitlines()
    loss_lines = [ln for ln in lines if "loss" in ln.lower()] or lines
    accuracy_lines = [ln for ln in lines if re.search(r"acc|correct", ln, re.IGNORECASE)] or lines
    problems = []
    shown_losses = printed_numbers("\n".join(loss_lines))
    if not any(n.matches(loss) for n in shown_losses):
        summed = any(n.matches(loss * total) for n in shown_losses)
        problems.append(
            f"the average loss {loss:.4g} is not shown"
            + (f" (it shows the sum of the {total} losses instead)" if summed else "")
        )
    accuracy = [float(correct), 100 * correct / total, correct / total]
    shown = printed_numbers("\n".join(accuracy_lines))
    if not any(n.matches(a) for n in shown for a in accuracy):
        problems.append(
            f"the accuracy {correct}/{total} ({100 * correct / total:.2f} %) is not shown"
        )
    return problems


# --- Q4: how the notebook holds its inputs ------------------------------------------


def input_transform(held: np.ndarray, raw: np.ndarray) -> tuple[float, float] | None:
    """(a, b) with held = a * raw + b for the same images (x_train / 255 gives (1/255, 0)),
    or None when the notebook's inputs are not such a transform of the raw pixels."""
    held = np.asarray(held, dtype=float).reshape(len(held), -1)
    raw = np.asarray(raw, dtype=float).reshape(len(raw), -1)
    if held.shape != raw.shape or not np.all(np.isfinite(held)):
        return None
    design = np.stack([raw.ravel(), np.ones(raw.size)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, held.ravel(), rcond=None)
    size = max(1.0, float(np.abs(held).max()))
    if np.abs(a * raw + b - held).max() > 1e-6 * size:
        return None
    # Least squares leaves rounding noise: x / 255 is (1/255, 0), not (1/255 + 1e-19, 3e-17).
    a = next((c for c in (1.0, 1 / 255) if abs(a - c) <= 1e-9 * c), float(a))
    b = 0.0 if abs(b) <= 1e-9 * size else float(b)
    return a, b


def row_key(row: np.ndarray) -> bytes:
    """An image's key under any scaling a * pixel + b (a > 0): where its darkest pixels are.

    Every raw 0 becomes the same value, the row's minimum, so the mask of the
    minimum is the mask of the raw zeros: exact, and all but unique in MNIST.
    """
    row = np.asarray(row).reshape(-1)
    return np.packbits(row == row.min()).tobytes()


def row_index(raw: np.ndarray) -> dict[bytes, int]:
    """row_key -> index of the first raw image with that key."""
    flat = np.asarray(raw).reshape(len(raw), -1)
    packed = np.packbits(flat == flat.min(axis=1, keepdims=True), axis=1)
    index: dict[bytes, int] = {}
    for i, key in enumerate(packed):
        index.setdefault(key.tobytes(), i)
    return index


def matched_transform(
    held: np.ndarray, raw: np.ndarray, index: Mapping[bytes, int]
) -> tuple[float, float] | None:
    """(a, b) with held = a * raw + b, each held row matched to its raw image by content
    (any order, any subset of the images), or None when a row is not an MNIST image."""
    held = np.asarray(held, dtype=float).reshape(len(held), -1)
    if not np.all(np.isfinite(held)):
        return None
    rows = [index.get(row_key(row)) for row in held]
    if not rows or any(r is None for r in rows):
        return None
    return input_transform(held, np.asarray(raw)[rows])
