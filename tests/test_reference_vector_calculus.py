"""Problem 1 (fall2023): the derived answers equal 2x and the mean."""

import numpy as np
import sympy as sp

from reference import vector_calculus as vc


def test_gradient_of_norm_squared_is_2x_for_symbolic_length():
    assert sp.simplify(vc.gradient_component() - 2 * vc.x_vec[vc.k_sym]) == 0


def test_gradient_of_norm_squared_is_2x_for_fixed_sizes():
    for d in (1, 2, 5):
        xs = sp.Matrix(sp.symbols(f"x0:{d}"))
        assert vc.gradient_norm_squared(d) == 2 * xs


def test_numeric_gradient_matches_finite_differences_at_random_points():
    rng = np.random.default_rng(0)
    for d in (1, 3, 7):
        x = rng.normal(size=d)
        h = 1e-6
        fd = np.array(
            [(np.sum((x + h * e) ** 2) - np.sum((x - h * e) ** 2)) / (2 * h) for e in np.eye(d)]
        )
        np.testing.assert_allclose(vc.grad_norm_squared_np(x), fd, rtol=1e-7, atol=1e-8)
        np.testing.assert_array_equal(vc.grad_norm_squared_np(x), 2 * x)


def test_minimiser_is_the_mean_symbolically():
    n = vc.n_sym
    total = sp.Sum(vc.x_vec[vc.i_sym], (vc.i_sym, 0, n - 1))
    assert sp.simplify(vc.mean_minimiser_symbolic() - total / n) == 0
    mu = vc.mean_minimiser(3, 2)
    for j in range(2):
        mean_j = sum(sp.Symbol(f"x{i}_{j}") for i in range(3)) / 3
        assert sp.simplify(mu[j] - mean_j) == 0


def test_numeric_minimiser_is_the_mean_and_beats_perturbations():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(9, 4))
    mu = vc.minimiser_np(points)
    np.testing.assert_allclose(mu, points.mean(axis=0), rtol=1e-12)

    def objective(m):
        return np.sum((points - m) ** 2)

    for _ in range(20):
        assert objective(mu) < objective(mu + 1e-3 * rng.normal(size=4))
