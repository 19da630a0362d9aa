"""Problem 3 (fall2023): the 1-4-1 ReLU net, its backprop, and exact fits."""

import numpy as np
import pytest
import sympy as sp

from reference import relu_fit as rf

# The literal facts of ASSIGNMENT.md, used only as expected values.
F_AT_2 = -3.0
GRAD_AT_2 = [0, -2, -2, 0, 0, -1, -1, 0, 0, 3, 1, 0, 1]
EXAMPLE_FIT_1 = [1, 1, 1, 1, 0, -4, -6, -8, -2, 4, -4, 4, 8]
EXAMPLE_FIT_2 = [1, 1, 1, 1, 0, -3, -5, 0, 1, -2, 1.5, 0, 0]


def symbolic_net():
    """f(x, θ) in sympy, with max(0, z) and the Heaviside(0) = 0 convention."""
    x = sp.Symbol("x", real=True)
    theta = sp.symbols("t0:13", real=True)
    f = theta[12] + sum(theta[8 + i] * sp.Max(0, theta[i] * x + theta[4 + i]) for i in range(4))
    return x, theta, f


def sympy_gradient(x_value, theta_value):
    x, theta, f = symbolic_net()
    grad = [sp.diff(f, t) for t in theta]
    # sympy writes d/dz Max(0, z) as Heaviside(z); make Heaviside(0) = 0 as in the problem.
    grad = [g.replace(sp.Heaviside, lambda arg, *_: sp.Heaviside(arg, 0)) for g in grad]
    values = {x: x_value, **dict(zip(theta, theta_value, strict=True))}
    return np.array([float(g.subs(values)) for g in grad]), float(f.subs(values))


def test_forward_pass_at_theta_0_is_minus_3():
    assert rf.forward(2.0, rf.THETA_0) == F_AT_2


def test_backprop_at_theta_0_matches_the_assignment_and_sympy():
    f, grad = rf.backprop(2.0, rf.THETA_0)
    np.testing.assert_array_equal(grad, GRAD_AT_2)
    sym_grad, sym_f = sympy_gradient(2, rf.THETA_0)
    np.testing.assert_array_equal(grad, sym_grad)
    assert f == sym_f


def test_backprop_matches_sympy_and_finite_differences_at_random_points():
    rng = np.random.default_rng(0)
    for _ in range(5):
        theta, x = rng.normal(size=13), float(rng.normal() * 3)
        _, grad = rf.backprop(x, theta)
        sym_grad, _ = sympy_gradient(x, theta)
        np.testing.assert_allclose(grad, sym_grad, rtol=1e-12, atol=1e-12)
        h = 1e-6
        fd = [
            (rf.forward(x, theta + h * e) - rf.forward(x, theta - h * e)) / (2 * h)
            for e in np.eye(13)
        ]
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


def test_backprop_is_vectorised_over_x():
    xs = np.linspace(-3, 3, 7)
    f, grad = rf.backprop(xs, rf.THETA_0)
    assert f.shape == (7,) and grad.shape == (7, 13)
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(grad[i], rf.backprop(x, rf.THETA_0)[1])


def test_loss_gradient_is_minus_2_sum_residual_times_grad_f_and_matches_differences():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=13)
    xs, ys = rf.DATASET_1.arrays()
    grad = rf.loss_gradient(xs, ys, theta)
    h = 1e-6
    fd = [
        (rf.loss(theta + h * e, rf.DATASET_1) - rf.loss(theta - h * e, rf.DATASET_1)) / (2 * h)
        for e in np.eye(13)
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("dataset", "theta"), [(rf.DATASET_1, EXAMPLE_FIT_1), (rf.DATASET_2, EXAMPLE_FIT_2)]
)
def test_the_example_fits_of_the_assignment_are_exact(dataset, theta):
    assert np.abs(rf.residuals(np.array(theta, float), dataset)).max() < 1e-12


def test_dataset_2_has_slope_one_half_after_x_5():
    x, y = rf.DATASET_2.arrays()
    np.testing.assert_array_equal(np.diff(y[5:]) / np.diff(x[5:]), 0.5)


@pytest.mark.parametrize("dataset", [rf.DATASET_1, rf.DATASET_2, rf.DATASET_2_MISREAD])
@pytest.mark.parametrize("seed", [0, 1])
def test_fit_passes_through_every_point(dataset, seed):
    result = rf.fit(dataset, seed=seed)
    assert result.residual_max < 1e-9
    assert np.abs(rf.residuals(result.theta, dataset)).max() == result.residual_max
    # The search counts its starts: replaying it with exactly that many succeeds.
    assert rf.fit(dataset, seed=seed, max_tries=result.tries).tries == result.tries


def test_fit_stops_at_its_bound_with_a_clear_error():
    """The restart count is bounded: too few starts raise FitError naming the bound."""
    needed = rf.fit(rf.DATASET_1, seed=0).tries
    assert needed > 1, "seed 0 must need several starts for this test to mean anything"
    with pytest.raises(rf.FitError, match=f"in {needed - 1} fsolve starts"):
        rf.fit(rf.DATASET_1, seed=0, max_tries=needed - 1)


def test_fit_is_repeatable_for_a_seed():
    a, b = rf.fit(rf.DATASET_2, seed=3), rf.fit(rf.DATASET_2, seed=3)
    np.testing.assert_array_equal(a.theta, b.theta)


def test_fit_gives_up_with_a_clear_error_when_tries_run_out():
    with pytest.raises(rf.FitError, match="raise max_tries"):
        rf.fit(rf.DATASET_1, seed=0, max_tries=1)


def test_misread_fit_misses_the_true_dataset_2_by_2_5():
    misread = rf.fit(rf.DATASET_2_MISREAD, seed=0)
    assert np.abs(rf.residuals(misread.theta, rf.DATASET_2)).max() == pytest.approx(2.5, abs=1e-8)


def test_wrong_theta_shape_is_rejected_with_the_parameter_order():
    with pytest.raises(ValueError, match="W_H1"):
        rf.forward(1.0, np.zeros(12))
