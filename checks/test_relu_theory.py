"""Problem 3 (fall2023), theory parts 3b-3d: the loss gradient, a forward pass, backprop.

Truth from `reference.relu_fit`. Part 3a (fitting the datasets) is judged
from the notebook or answers.toml by the problem-3 notebook checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from checks.answers.evaluate import Env, EvaluationError
from checks.answers.judge import Case, judge_numeric, require
from checks.scoring import CheckFailed, PartialCredit, describe_shape, expect_close, wrong_entries
from reference import relu_fit

SEED = 3003
X_AT = 2.0  # parts 3c/3d evaluate the net at x = 2, theta_0
BLOCKS = {"W_H": slice(0, 4), "b_H": slice(4, 8), "W_O": slice(8, 12), "b_O": slice(12, 13)}


def _net_arguments(name: str, x: np.ndarray, theta: np.ndarray) -> None:
    """Students call f(x, theta): say so when the arguments are swapped or mis-shaped."""
    if np.ndim(x) != 0 or np.shape(theta) != (relu_fit.N_PARAMS,):
        raise EvaluationError(
            f"{name}(x, theta) takes a number x and the {relu_fit.N_PARAMS}-vector theta; "
            f"found {describe_shape(np.shape(x))} and {describe_shape(np.shape(theta))}"
        )


def _f(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    _net_arguments("f", x, theta)
    return relu_fit.forward(x, theta)


def _grad_f(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    _net_arguments("grad_f", x, theta)
    return relu_fit.backprop(x, theta)[1]


@pytest.mark.part(fall2023="3b")
def test_loss_gradient(answers, part):
    expression = answers.section(part.id).expression("grad_L")
    rng = np.random.default_rng(SEED)
    cases = []
    for n in (1, 4, 7):
        xs, ys = rng.uniform(-3, 3, size=n), rng.normal(size=n)
        theta = rng.normal(size=relu_fit.N_PARAMS)
        env = Env(
            values={"theta": theta, "n": n},
            families={"x_i": xs, "y_i": ys},
            ranges={"i": n},
            functions={"f": _f, "grad_f": _grad_f},
        )
        cases.append(
            Case(
                env,
                relu_fit.loss_gradient(xs, ys, theta),
                f"{n} random data point{'s' if n > 1 else ''}",
            )
        )
    require(judge_numeric(expression, cases, what="[3b] grad_L"))


@pytest.mark.part(fall2023="3c")
def test_forward_pass(answers, part):
    found = answers.section(part.id).number("f")
    expected = relu_fit.forward(X_AT, relu_fit.THETA_0)
    expect_close(found, expected, what="[3c] f(2, theta_0)")


@pytest.mark.part(fall2023="3d")
def test_backprop(answers, part, record):
    """Each of the four blocks (dW_H, db_H, dW_O, db_O) earns a quarter when all its entries match."""
    found = answers.section(part.id).numbers("grad_f")
    expected = relu_fit.backprop(X_AT, relu_fit.THETA_0)[1]
    labels = [f"∂f/∂{name}" for name in relu_fit.PARAM_NAMES]
    wrong = wrong_entries(found, expected, labels)
    record.add("wrong_entries", wrong)
    if not wrong:
        return
    blocks_right = sum(np.allclose(found[s], expected[s]) for s in BLOCKS.values())
    message = "[3d] grad_f: " + "; ".join(wrong)
    if blocks_right == 0:
        raise CheckFailed(message)
    raise PartialCredit(blocks_right / len(BLOCKS), message)
