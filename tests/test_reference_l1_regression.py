"""Problems 2 (fall2023) / 1 (spring2023): l1 regression has no closed form."""

import numpy as np

from reference import l1_regression as l1


def test_sizes_are_n_by_d_d_by_1_n_by_1():
    assert (l1.SIZES.X, l1.SIZES.w, l1.SIZES.y) == (("n", "d"), ("d", "1"), ("n", "1"))


def test_loss_is_sum_of_absolute_residuals_with_those_shapes():
    rng = np.random.default_rng(0)
    n, d = 6, 3
    X, w, y = rng.normal(size=(n, d)), rng.normal(size=(d, 1)), rng.normal(size=(n, 1))
    assert l1.l1_loss(X, w, y) == sum(abs(float(X[i] @ w[:, 0] - y[i, 0])) for i in range(n))


def test_demo_l1_optimum_differs_from_least_squares_and_is_strictly_better():
    demo = l1.demo()
    assert not np.allclose(demo.w_l1, demo.w_ls, atol=1e-3)
    assert demo.loss_l1 < demo.loss_ls - 1e-6
    # The LS formula really is the l2 optimum, so the comparison is fair.
    np.testing.assert_allclose(demo.X.T @ (demo.X @ demo.w_ls - demo.y), 0, atol=1e-9)


def test_lp_solution_is_optimal_against_random_perturbations():
    demo = l1.demo()
    rng = np.random.default_rng(2)
    for _ in range(50):
        w = demo.w_l1 + rng.normal(scale=0.05, size=2)
        assert l1.l1_loss(demo.X, w, demo.y) >= demo.loss_l1 - 1e-12


def test_loss_is_not_differentiable_at_the_optimum():
    demo = l1.demo()
    right, left = demo.kink_derivatives
    assert right != left
    # The one-sided limits agree with one-sided difference quotients.
    v, h = np.array([0.0, 1.0]), 1e-7
    loss0 = l1.l1_loss(demo.X, demo.w_l1, demo.y)
    forward = (l1.l1_loss(demo.X, demo.w_l1 + h * v, demo.y) - loss0) / h
    backward = (loss0 - l1.l1_loss(demo.X, demo.w_l1 - h * v, demo.y)) / h
    np.testing.assert_allclose([forward, backward], [right, left], atol=1e-5)


def test_closed_form_answer_is_no_and_read_off_the_demo():
    demo = l1.demo()
    assert demo.ls_formula_misses_l1_optimum and demo.optimum_at_kink
    assert l1.CLOSED_FORM_EXISTS is False


def test_lp_fit_on_random_problem_is_no_worse_than_least_squares():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 4))
    y = X @ rng.normal(size=4) + rng.standard_cauchy(size=40)
    w_l1, w_ls = l1.l1_fit_linprog(X, y), l1.least_squares(X, y)
    assert l1.l1_loss(X, w_l1, y) < l1.l1_loss(X, w_ls, y)
