"""Problem 2 (spring2023): boxes from step neurons, and universal approximation.

    step(x) = 1 if x ≥ 0 else 0
    box(x)  = h·step(x) − h·step(x − δ)          (height h on [0, δ))

A sum of boxes is a one-hidden-layer network of step units: box k uses two
hidden units with biases −c_k and −(c_k + δ) and output weights ±h_k.
Covering [−B, B]^d with boxes of side δ takes (B/δ)^d boxes up to the constant
2^d, the count the assignment asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

Function = Callable[[np.ndarray], np.ndarray]


def step(x: np.ndarray) -> np.ndarray:
    """The unit step σ(x): 1 for x ≥ 0, else 0."""
    return (np.asarray(x) >= 0).astype(float)


def box(x: np.ndarray, h: float, delta: float) -> np.ndarray:
    """h·σ(x) − h·σ(x − δ): height h on [0, δ), zero elsewhere."""
    return h * step(x) - h * step(np.asarray(x) - delta)


@dataclass(frozen=True)
class StepNetwork:
    """x ↦ Σⱼ out_weights[j]·σ(x + hidden_biases[j]): one hidden layer of step units."""

    hidden_biases: np.ndarray
    out_weights: np.ndarray

    @property
    def hidden_units(self) -> int:
        return len(self.hidden_biases)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return step(x[..., None] + self.hidden_biases) @ self.out_weights


def sum_of_boxes(f: Function, B: float, delta: float) -> StepNetwork:
    """Boxes of width δ tiling [−B, B], box k with height f at its midpoint.

    Box k covers [e_k, e_{k+1}), e_k = −B + kδ, with enough boxes that x = B
    itself is covered. Two hidden step units per box.
    """
    # The 1e-9 keeps 2B/δ = 59.999… (rounding of e.g. 6 / 0.1) from dropping a box.
    count = int(np.floor(2 * B / delta + 1e-9)) + 1
    edges = -B + delta * np.arange(count + 1)
    heights = np.asarray(f((edges[:-1] + edges[1:]) / 2), dtype=float)
    # unit 2k switches on at e_k (+h_k), unit 2k+1 at e_{k+1} (−h_k); sharing the
    # edge values leaves no gap or overlap between neighbouring boxes.
    biases = np.stack([-edges[:-1], -edges[1:]], axis=1).reshape(-1)
    weights = np.stack([heights, -heights], axis=1).reshape(-1)
    return StepNetwork(hidden_biases=biases, out_weights=weights)


def max_error(f: Function, approx: Function, B: float, points: int = 20_001) -> float:
    """max |f − approx| on an even grid over [−B, B]."""
    grid = np.linspace(-B, B, points)
    return float(np.abs(f(grid) - approx(grid)).max())


def error_table(f: Function, B: float, deltas: list[float]) -> list[tuple[float, float]]:
    """(δ, max error on [−B, B]) of the sum of boxes, one row per δ."""
    return [(delta, max_error(f, sum_of_boxes(f, B, delta), B)) for delta in deltas]


def boxes_needed_expr() -> sp.Expr:
    """(B/δ)^d, derived as a product of B/δ boxes along each of d axes."""
    B, delta, d = sp.symbols("B delta d", positive=True)
    axis = sp.Symbol("j", integer=True, positive=True)
    return sp.Product(B / delta, (axis, 1, d)).doit()


def boxes_needed(B: float, delta: float, d: int) -> float:
    """(B/δ)^d evaluated."""
    B_, delta_, d_ = sp.symbols("B delta d", positive=True)
    return float(boxes_needed_expr().subs({B_: B, delta_: delta, d_: d}))
