"""Problem 2 (fall2023) / 1 (spring2023): linear regression with the l1 loss.

L(w) = ‖Xw − y‖₁ with X n×d, w d×1, y n×1. Least squares has the closed form
w = (XᵀX)⁻¹Xᵀy because its gradient 2Xᵀ(Xw − y) is linear in w. The l1
"gradient" Xᵀ sign(Xw − y) is piecewise constant and undefined wherever a
residual is zero, which is exactly where l1 optima sit (an LP optimum is a
vertex: d residuals are zero). So there is no equation to solve in closed form;
the optimum comes from linear programming. `demo()` shows both facts on a
small example and `CLOSED_FORM_EXISTS` is read off it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class Sizes:
    """Shapes of the matrix form, in the symbols n (samples) and d (features)."""

    X: tuple[str, str] = ("n", "d")
    w: tuple[str, str] = ("d", "1")
    y: tuple[str, str] = ("n", "1")


SIZES = Sizes()


def l1_loss(X: np.ndarray, w: np.ndarray, y: np.ndarray) -> float:
    """‖Xw − y‖₁."""
    return float(np.abs(X @ w - y).sum())


def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The closed form (XᵀX)⁻¹Xᵀy of the l2 problem, solved stably."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


def l1_fit_linprog(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin_w ‖Xw − y‖₁ as the LP  min Σ tᵢ  s.t.  −t ≤ Xw − y ≤ t.

    Variables are (w, t); w is free, t ≥ 0.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    n, d = X.shape
    eye = np.eye(n)
    cost = np.concatenate([np.zeros(d), np.ones(n)])
    A_ub = np.block([[X, -eye], [-X, -eye]])  # Xw − y ≤ t  and  −(Xw − y) ≤ t
    b_ub = np.concatenate([y, -y])
    bounds = [(None, None)] * d + [(0, None)] * n
    result = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if not result.success:
        raise RuntimeError(f"l1 linear program failed: {result.message}")
    return result.x[:d]


def directional_derivatives(
    X: np.ndarray, w: np.ndarray, y: np.ndarray, v: np.ndarray
) -> tuple[float, float]:
    """One-sided derivatives of L along v at w: (lim h↓0, lim h↑0) of (L(w+hv)−L(w))/h.

    d/dh |rᵢ + h aᵢ| is sign(rᵢ) aᵢ when rᵢ ≠ 0, but ±|aᵢ| (from the right /
    the left) at a kink rᵢ = 0; the two limits differ exactly when some
    residual sits on a kink with aᵢ ≠ 0.
    """
    r = X @ w - y
    a = X @ v
    smooth = np.sign(r) * a
    at_kink = r == 0
    right = smooth[~at_kink].sum() + np.abs(a[at_kink]).sum()
    left = smooth[~at_kink].sum() - np.abs(a[at_kink]).sum()
    return float(right), float(left)


@dataclass(frozen=True)
class Demo:
    """A worked example: l1 optimum vs the least-squares formula."""

    X: np.ndarray
    y: np.ndarray
    w_l1: np.ndarray
    w_ls: np.ndarray
    loss_l1: float  # ‖X w_l1 − y‖₁
    loss_ls: float  # ‖X w_ls − y‖₁
    kink_derivatives: tuple[float, float]  # one-sided derivatives at w_l1

    @property
    def ls_formula_misses_l1_optimum(self) -> bool:
        return self.loss_l1 < self.loss_ls and not np.allclose(self.w_l1, self.w_ls)

    @property
    def optimum_at_kink(self) -> bool:
        right, left = self.kink_derivatives
        return right != left


def demo() -> Demo:
    """Fit a line to 5 points with one outlier, by l1 (LP) and by the l2 formula.

    The l1 line passes through points (residuals exactly zero: kinks of L), so
    L is not differentiable at its own optimum and the least-squares formula,
    which the outlier drags away, is not the l1 answer.
    """
    x = np.arange(5.0)
    X = np.column_stack([np.ones_like(x), x])
    y = 1.0 + 2.0 * x
    y[4] += 10.0  # an outlier: l1 ignores it, l2 does not
    w_l1 = _snap_to_vertex(X, y, l1_fit_linprog(X, y))
    w_ls = least_squares(X, y)
    slope_direction = np.array([0.0, 1.0])
    return Demo(
        X=X,
        y=y,
        w_l1=w_l1,
        w_ls=w_ls,
        loss_l1=l1_loss(X, w_l1, y),
        loss_ls=l1_loss(X, w_ls, y),
        kink_derivatives=directional_derivatives(X, w_l1, y, slope_direction),
    )


def _snap_to_vertex(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Re-solve w on the residuals the LP left at ~1e-15, making them exact zeros.

    An LP optimum is a vertex: the points it interpolates determine w. Solving
    on them exactly lets the kink test see the vertex the solver found.
    """
    active = np.abs(X @ w - y) < 1e-9
    if active.sum() < X.shape[1]:
        return w
    return np.linalg.lstsq(X[active], y[active], rcond=None)[0]


def _closed_form_exists() -> bool:
    """Read off `demo()`: a closed form would be a formula whose value is the optimum.

    The least-squares formula (the candidate the problem offers) misses the l1
    optimum, and that optimum sits where L has no derivative, so no "set the
    gradient to zero and solve" formula can produce it.
    """
    shown = demo()
    return not (shown.ls_formula_misses_l1_optimum and shown.optimum_at_kink)


CLOSED_FORM_EXISTS: bool = _closed_form_exists()
