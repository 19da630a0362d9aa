"""Problem 3 (spring2023): J_ij = y_i(δ_ij − y_j), by sympy, autograd and differences."""

import numpy as np
import torch

from reference import softmax_jacobian as sj


def test_sympy_derivative_simplifies_to_the_closed_form():
    for n in (2, 3, 4):
        assert sj.closed_form_holds(n)


def test_numeric_jacobian_matches_sympy_autograd_and_finite_differences():
    rng = np.random.default_rng(0)
    for n in (3, 5, 10):
        z = rng.normal(scale=3, size=n)
        ours = sj.softmax_jacobian(z)
        autograd = torch.autograd.functional.jacobian(
            lambda t: torch.softmax(t, dim=0), torch.tensor(z, dtype=torch.float64)
        ).numpy()
        h = 1e-6
        fd = np.stack(
            [(sj.softmax(z + h * e) - sj.softmax(z - h * e)) / (2 * h) for e in np.eye(n)], axis=1
        )
        np.testing.assert_allclose(ours, autograd, atol=1e-14)
        np.testing.assert_allclose(ours, sj.symbolic_jacobian_at(z), atol=1e-14)
        np.testing.assert_allclose(ours, fd, atol=1e-9)


def test_jacobian_rows_sum_to_zero_and_softmax_is_stable_for_large_inputs():
    z = np.array([1000.0, 999.0, -1000.0])
    y = sj.softmax(z)
    assert np.isfinite(y).all() and abs(y.sum() - 1) < 1e-15
    np.testing.assert_allclose(sj.softmax_jacobian(z).sum(axis=0), 0, atol=1e-15)
