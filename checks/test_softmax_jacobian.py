"""Problem 3 (spring2023): the Jacobian of softmax, J_ij = y_i (delta_ij - y_j).

Truth from `reference.softmax_jacobian`: the numeric formula at random z, and
sympy's own differentiation for the symbolic fallback.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from checks.answers.evaluate import Env, tabulate
from checks.answers.judge import Case, SymbolicCase, judge, require
from checks.scoring import CheckFailed, describe, describe_shape
from reference import softmax_jacobian

SEED = 5005
SIZES = (2, 3, 5)


@pytest.mark.part(spring2023="3")
def test_softmax_jacobian(answers, part, record):
    section = answers.section(part.id)
    rng = np.random.default_rng(SEED)
    points = [rng.normal(size=n) for n in SIZES]
    if section.has("jacobian"):
        record.add("form", "matrix")
        _matrix_form(section, points)
    elif section.has("jacobian_ij"):
        record.add("form", "index")
        _index_form(section, points)
    else:
        raise CheckFailed(f"[{section.spec.name}] needs `jacobian` or `jacobian_ij`")


def _matrix_form(section, points: list[np.ndarray]) -> None:
    expression = section.expression("jacobian")
    cases = [
        Case(
            Env(values={"y": softmax_jacobian.softmax(z), "z": z, "n": len(z)}),
            softmax_jacobian.softmax_jacobian(z),
            f"z = {describe(z)}",
        )
        for z in points
    ]
    z_symbols, y_symbolic = softmax_jacobian.symbolic_softmax(3)
    _, jacobian = softmax_jacobian.symbolic_jacobian(3)
    symbolic = SymbolicCase(
        Env(values={"y": y_symbolic, "z": sympy.Matrix(z_symbols), "n": 3}), jacobian
    )
    require(judge(expression, cases, what=section.what("jacobian"), symbolic=symbolic))


def _index_form(section, points: list[np.ndarray]) -> None:
    expression = section.expression("jacobian_ij")
    for z in points:
        y = softmax_jacobian.softmax(z)
        n = len(z)
        env = Env(
            values={"n": n},
            families={"y_i": y, "y_j": y, "z_i": z, "z_j": z, "delta_ij": np.eye(n)},
            ranges={"i": n, "j": n},
        )
        found = tabulate(expression, env, "ij")
        expected = softmax_jacobian.softmax_jacobian(z)
        wrong = np.argwhere(~np.isclose(found, expected, rtol=1e-6, atol=1e-9))
        if len(wrong):
            i, j = wrong[0]
            raise CheckFailed(
                f"{section.what('jacobian_ij')}: at z = {describe(z)}, entry (i, j) = ({i + 1}, {j + 1}) "
                f"expected {expected[i, j]:.6g}, found {found[i, j]:.6g} "
                f"(the whole Jacobian is {describe_shape(expected.shape)})"
            )
