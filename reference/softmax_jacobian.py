"""Problem 3 (spring2023): the Jacobian of softmax.

    yᵢ = exp(zᵢ) / Σₖ exp(zₖ),    J_ij = ∂yᵢ/∂zⱼ = yᵢ(δ_ij − yⱼ)

`symbolic_jacobian(n)` differentiates softmax with sympy; `closed_form_holds(n)`
checks that the result simplifies to the formula above; `softmax_jacobian(z)`
is the numeric formula, diag(y) − y yᵀ.
"""

from __future__ import annotations

import numpy as np
import sympy as sp


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the max so exp cannot overflow."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """J = diag(y) − y yᵀ, i.e. J_ij = yᵢ(δ_ij − yⱼ), for a vector z."""
    y = softmax(np.asarray(z, dtype=float).reshape(-1))
    return np.diag(y) - np.outer(y, y)


def symbolic_softmax(n: int) -> tuple[tuple[sp.Symbol, ...], sp.Matrix]:
    """Symbols z0..z{n-1} and softmax(z) as a sympy column."""
    z = sp.symbols(f"z0:{n}", real=True)
    total = sum(sp.exp(zk) for zk in z)
    return z, sp.Matrix([sp.exp(zi) / total for zi in z])


def symbolic_jacobian(n: int) -> tuple[tuple[sp.Symbol, ...], sp.Matrix]:
    """Symbols z and the n×n Jacobian ∂yᵢ/∂zⱼ, differentiated by sympy."""
    z, y = symbolic_softmax(n)
    return z, y.jacobian(z)


def closed_form_holds(n: int) -> bool:
    """Whether sympy's Jacobian equals yᵢ(δ_ij − yⱼ) identically for size n."""
    z, y = symbolic_softmax(n)
    derived = y.jacobian(z)
    formula = sp.Matrix(n, n, lambda i, j: y[i] * (sp.KroneckerDelta(i, j) - y[j]))
    return all(sp.simplify(entry) == 0 for entry in derived - formula)


def symbolic_jacobian_at(z_value: np.ndarray) -> np.ndarray:
    """sympy's Jacobian evaluated numerically at z_value (an independent path)."""
    z_value = np.asarray(z_value, dtype=float).reshape(-1)
    z, jac = symbolic_jacobian(len(z_value))
    return np.asarray(sp.lambdify(z, jac, "numpy")(*z_value), dtype=float)
