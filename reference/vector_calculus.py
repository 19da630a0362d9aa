"""Problem 1 (fall2023): gradient of ‖x‖² and the point minimising Σᵢ‖xᵢ − μ‖².

Every answer here is *derived* by sympy, never typed in: the symbolic-dimension
forms use an indexed vector x[i] summed over i = 0..n−1, the fixed-size forms
use plain symbols x0..x{d-1}. The numeric callables are lambdified from the
derived expressions, so a check that compares a student's numbers with them is
comparing with the derivation itself.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

# Symbols of the symbolic-dimension derivation: vector length / point count n,
# summation index i, component index k, the indexed vector x and the constant μ.
n_sym = sp.Symbol("n", integer=True, positive=True)
i_sym, k_sym = sp.symbols("i k", integer=True)
x_vec = sp.IndexedBase("x")
mu_sym = sp.Symbol("mu")


@cache  # a second of sympy per call, and the same every time
def gradient_component() -> sp.Expr:
    """∂/∂x_k Σᵢ x_i² for a vector of symbolic length n, valid for 0 ≤ k < n.

    sympy differentiates the sum into Σᵢ 2 δ_ik x_i and collapses it to 2 x_k
    (with a Piecewise guard for k outside the range, which we take as given).
    """
    norm_squared = sp.Sum(x_vec[i_sym] ** 2, (i_sym, 0, n_sym - 1))
    collapsed = sp.simplify(norm_squared.diff(x_vec[k_sym]).doit())
    if isinstance(collapsed, sp.Piecewise):
        collapsed = collapsed.args[0].expr  # the branch for 0 ≤ k < n
    return collapsed


@cache
def mean_minimiser_symbolic() -> sp.Expr:
    """The μ (one coordinate) solving d/dμ Σᵢ (x_i − μ)² = 0 for n symbolic points.

    The objective is separable across coordinates, so one coordinate is the
    whole answer; sympy returns Σᵢ x_i / n.
    """
    objective = sp.Sum((x_vec[i_sym] - mu_sym) ** 2, (i_sym, 0, n_sym - 1))
    stationary = sp.expand(objective.diff(mu_sym)).doit()
    (solution,) = sp.solve(stationary, mu_sym)
    return solution


def gradient_norm_squared(d: int) -> sp.Matrix:
    """∇‖x‖² for x ∈ R^d, in terms of the symbols x0..x{d-1} (equals 2x)."""
    xs = sp.symbols(f"x0:{d}")
    norm_squared = sum(x**2 for x in xs)
    return sp.Matrix([norm_squared.diff(x) for x in xs])


def mean_minimiser(n: int, d: int) -> sp.Matrix:
    """argmin_μ Σᵢ‖xᵢ − μ‖² for n points in R^d, in terms of symbols x{i}_{j}.

    Solves the stationarity equations ∇_μ = 0 (a linear system); the objective
    is a convex quadratic, so the stationary point is the minimiser.
    """
    points = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"x{i}_{j}"))
    mu = sp.symbols(f"mu0:{d}")
    objective = sum((points[i, j] - mu[j]) ** 2 for i in range(n) for j in range(d))
    solution = sp.solve([objective.diff(m) for m in mu], mu, dict=True)[0]
    return sp.Matrix([solution[m] for m in mu])


def grad_norm_squared_np(x: np.ndarray) -> np.ndarray:
    """∇‖x‖² at a numeric point, evaluated from the symbolic-dimension derivation."""
    # The derived component is an expression in x[k]; evaluating it at every
    # coordinate at once gives the whole gradient, for any length.
    x_k = sp.Symbol("x_k")
    component = sp.lambdify(x_k, gradient_component().subs(x_vec[k_sym], x_k), "numpy")
    x = np.asarray(x, dtype=float)
    return np.broadcast_to(component(x), x.shape).astype(float)


def minimiser_np(points: np.ndarray) -> np.ndarray:
    """argmin_μ Σᵢ‖xᵢ − μ‖² for points of shape (n, d), from the symbolic solution.

    The symbolic answer is Σᵢ x_i / n per coordinate; we evaluate it by
    substituting the numeric n and summing the points.
    """
    points = np.asarray(points, dtype=float)
    n = points.shape[0]
    sum_symbol = sp.Symbol("S")
    per_sum = mean_minimiser_symbolic().subs(
        sp.Sum(x_vec[i_sym], (i_sym, 0, n_sym - 1)), sum_symbol
    )
    evaluate = sp.lambdify((sum_symbol, n_sym), per_sum, "numpy")
    return np.asarray(evaluate(points.sum(axis=0), n), dtype=float)
