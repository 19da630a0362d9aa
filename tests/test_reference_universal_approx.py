"""Problem 2 (spring2023): boxes, sums of boxes, (B/δ)^d."""

import numpy as np
import sympy as sp

from reference import universal_approx as ua


def test_step_is_one_from_zero_on():
    np.testing.assert_array_equal(ua.step(np.array([-1.0, -1e-12, 0.0, 2.0])), [0, 0, 1, 1])


def test_box_has_height_h_on_zero_to_delta():
    x = np.linspace(-1, 2, 3001)
    expected = np.where((x >= 0) & (x < 0.5), 1.5, 0.0)
    np.testing.assert_array_equal(ua.box(x, h=1.5, delta=0.5), expected)


def test_sum_of_boxes_uses_two_step_units_per_box_and_is_piecewise_constant():
    net = ua.sum_of_boxes(np.sin, B=2.0, delta=0.5)
    assert net.hidden_units == 2 * 9  # ⌊4/0.5⌋ + 1 boxes
    # on the box [0, 0.5) the network is the box's height, sin at the midpoint
    np.testing.assert_allclose(net(np.linspace(0.0, 0.49, 50)), np.sin(0.25), atol=1e-14)


def test_error_shrinks_with_delta_for_smooth_functions():
    deltas = [1.0, 0.5, 0.25, 0.1, 0.05, 0.01]
    for f, lipschitz in ((np.sin, 1.0), (lambda x: np.exp(-(x**2)), np.sqrt(2 / np.e))):
        table = ua.error_table(f, 3.0, deltas)
        errors = [err for _, err in table]
        assert all(a > b for a, b in zip(errors, errors[1:], strict=False)), table
        # midpoint heights: error ≤ L·δ/2
        for delta, err in table:
            assert err <= lipschitz * delta / 2 + 1e-9


def test_boxes_needed_is_b_over_delta_to_the_d():
    B, delta, d = sp.symbols("B delta d", positive=True)
    assert sp.simplify(ua.boxes_needed_expr() - (B / delta) ** d) == 0
    assert ua.boxes_needed(2.0, 0.5, 3) == 64.0
    # it matches counting boxes of side δ along each axis of [0, B]^d
    assert ua.boxes_needed(1.0, 0.25, 2) == len(np.arange(0, 1.0, 0.25)) ** 2
