"""Problem 1 (fall2023): the gradient of ||x||^2 and the minimiser of sum_i ||x_i - mu||^2.

Answers come from answers.toml; the truth from `reference.vector_calculus`.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from checks.answers.evaluate import Env
from checks.answers.judge import Case, SymbolicCase, judge, require
from checks.scoring import describe
from reference import vector_calculus

SEED = 1001


@pytest.mark.part(fall2023="1a")
def test_gradient_of_squared_norm(answers, part, record):
    expression = answers.section(part.id).expression("gradient")
    rng = np.random.default_rng(SEED)
    cases = []
    for d in (1, 2, 3, 5):
        x = rng.normal(size=d)
        cases.append(
            Case(
                Env(values={"x": x, "d": d}),
                vector_calculus.grad_norm_squared_np(x),
                f"x = {describe(x)}",
            )
        )
    d = 3
    symbols = sympy.Matrix(sympy.symbols(f"x0:{d}"))
    symbolic = SymbolicCase(
        Env(values={"x": symbols, "d": sympy.Integer(d)}), vector_calculus.gradient_norm_squared(d)
    )
    verdict = judge(expression, cases, what="[1a] gradient", symbolic=symbolic)
    record.add("symbolic", verdict.symbolic)
    require(verdict)


@pytest.mark.part(fall2023="1b")
def test_mean_minimiser(answers, part, record):
    expression = answers.section(part.id).expression("mu")
    rng = np.random.default_rng(SEED + 1)
    cases = []
    for n, d in ((2, 1), (3, 2), (5, 3)):
        points = rng.normal(size=(n, d))
        cases.append(
            Case(
                Env(values={"n": n, "d": d}, families={"x_i": points}, ranges={"i": n}),
                vector_calculus.minimiser_np(points),
                f"n = {n} points in R^{d}",
            )
        )
    n, d = 3, 2
    points = [sympy.Matrix([sympy.Symbol(f"x{i}_{j}") for j in range(d)]) for i in range(n)]
    symbolic = SymbolicCase(
        Env(
            values={"n": sympy.Integer(n), "d": sympy.Integer(d)},
            families={"x_i": points},
            ranges={"i": n},
        ),
        vector_calculus.mean_minimiser(n, d),
    )
    verdict = judge(expression, cases, what="[1b] mu", symbolic=symbolic)
    record.add("symbolic", verdict.symbolic)
    require(verdict)
