"""Problem 3a: turning what a notebook held into parameter vectors, in every order.

The reference order is θ = (W_H,1..4, b_H,1..4, W_O,1..4, b_O). Students unpack
in their own order (`b_o, w_o1..4, b_h1..4, w_h1..4 = params`, or unit by
unit), so each candidate is read in every plausible layout; hidden units are
interchangeable, so only the order of the roles matters, a small finite set.
Judging is by residual on the data, never by the weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reference import relu_fit

ROLES = {"W_H": (0, 1, 2, 3), "b_H": (4, 5, 6, 7), "W_O": (8, 9, 10, 11), "b_O": (12,)}
_UNIT = {"w": 0, "b": 4, "v": 8}  # a hidden unit's input weight, bias, output weight
_UNIT_NAMES = {"w": "W_H", "b": "b_H", "v": "W_O"}


@dataclass(frozen=True)
class Layout:
    """How a student's 13 numbers map to θ: `order[j]` is the θ index of their j-th number."""

    name: str
    order: tuple[int, ...]

    def to_theta(self, values: np.ndarray) -> np.ndarray:
        theta = np.empty(13)
        theta[list(self.order)] = values
        return theta


def _layouts() -> tuple[Layout, ...]:
    found: dict[tuple[int, ...], str] = {}
    for roles in itertools.permutations(ROLES):  # whole blocks, in any order
        order = tuple(i for role in roles for i in ROLES[role])
        found.setdefault(order, ", ".join(f"{r}1..4" if r != "b_O" else r for r in roles))
    for unit in itertools.permutations("wbv"):  # unit by unit, b_O first or last
        units = tuple(_UNIT[k] + u for u in range(4) for k in unit)
        name = "unit by unit (" + ", ".join(_UNIT_NAMES[k] for k in unit) + ")"
        found.setdefault(units + (12,), f"{name}, then b_O")
        found.setdefault((12,) + units, f"b_O, then {name}")
    for pair in (("w", "b"), ("b", "w")):  # hidden units in pairs, output weights apart
        hidden = tuple(_UNIT[k] + u for u in range(4) for k in pair)
        blocks = {"hidden": hidden, "W_O": ROLES["W_O"], "b_O": ROLES["b_O"]}
        for names in itertools.permutations(blocks):
            order = tuple(i for n in names for i in blocks[n])
            label = ", ".join(
                f"({_UNIT_NAMES[pair[0]]}, {_UNIT_NAMES[pair[1]]}) per unit" if n == "hidden" else n
                for n in names
            )
            found.setdefault(order, label)
    return tuple(Layout(name, order) for order, name in found.items())


LAYOUTS = _layouts()
STANDARD = LAYOUTS[0]  # W_H, b_H, W_O, b_O: the order ASSIGNMENT.md and answers.toml use


@dataclass(frozen=True)
class Candidate:
    """13 numbers the notebook held, and where (for messages)."""

    where: str  # e.g. "`solution` after cell 7"
    values: np.ndarray


@dataclass(frozen=True)
class Fit:
    candidate: Candidate
    layout: Layout
    miss: float  # largest |f(x) - y| on the dataset

    @property
    def theta(self) -> np.ndarray:
        return self.layout.to_theta(self.candidate.values)

    def describe(self) -> str:
        order = "" if self.layout is STANDARD else f", read in the order {self.layout.name}"
        return f"{self.candidate.where}{order}"


def forward_many(thetas: np.ndarray, x: np.ndarray) -> np.ndarray:
    """f(x, θ) for N parameter vectors (N, 13) at M points: shape (N, M)."""
    w_h, b_h, w_o, b_o = thetas[:, 0:4], thetas[:, 4:8], thetas[:, 8:12], thetas[:, 12]
    z = np.maximum(0.0, x[None, :, None] * w_h[:, None, :] + b_h[:, None, :])
    return b_o[:, None] + (z * w_o[:, None, :]).sum(axis=-1)


def fits(
    candidates: Sequence[Candidate],
    dataset: relu_fit.DataPoints,
    layouts: Sequence[Layout] = LAYOUTS,
) -> list[Fit]:
    """Every (candidate, layout), best first, by the largest miss on `dataset`."""
    if not candidates:
        return []
    x, y = dataset.arrays()
    pairs = [(c, layout) for c in candidates for layout in layouts]
    thetas = np.stack([layout.to_theta(c.values) for c, layout in pairs])
    with np.errstate(over="ignore", invalid="ignore"):
        misses = np.abs(forward_many(thetas, x) - y[None, :]).max(axis=1)
    misses = np.where(np.isfinite(misses), misses, np.inf)
    ranked = np.argsort(misses, kind="stable")
    return [Fit(pairs[i][0], pairs[i][1], float(misses[i])) for i in ranked]


def assembled(pieces: Iterable[tuple[str, np.ndarray]], scalars: Iterable[tuple[str, float]]):
    """Candidates built from separate pieces: W_H, b_H, W_O from three distinct 4-vectors
    and b_O from a scalar, in the standard order (the roles are what is permuted)."""
    fours = list(pieces)
    ones = list(scalars)
    for (n1, a), (n2, b), (n3, c) in itertools.permutations(fours, 3):
        for n4, d in ones:
            yield Candidate(
                f"`{n1}`, `{n2}`, `{n3}`, `{n4}` as W_H, b_H, W_O, b_O",
                np.concatenate([a, b, c, [d]]),
            )
