"""The judge: equivalent answers pass, wrong ones fail with expected/found/where."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy

from checks.answers.evaluate import Env
from checks.answers.judge import Case, SymbolicCase, judge, judge_numeric
from checks.answers.language import parse_expression
from checks.answers.questions import GRADIENT_OF_SQUARED_NORM
from checks.answers.symbolic import prove_zero
from reference import vector_calculus

GRADIENT = GRADIENT_OF_SQUARED_NORM.field("gradient").vocabulary


def _cases() -> list[Case]:
    rng = np.random.default_rng(0)
    cases = []
    for d in (1, 3, 4):
        x = rng.normal(size=d)
        cases.append(
            Case(Env(values={"x": x, "d": d}), vector_calculus.grad_norm_squared_np(x), f"d = {d}")
        )
    return cases


def _symbolic(d: int = 3) -> SymbolicCase:
    x = sympy.Matrix(sympy.symbols(f"x0:{d}"))
    return SymbolicCase(
        Env(values={"x": x, "d": sympy.Integer(d)}), vector_calculus.gradient_norm_squared(d)
    )


@pytest.mark.parametrize(
    "text", ["2*x", "x+x", "x*2", "2 * x", "4*x/2", "(1+1)*x", "x*norm(x)**2/norm(x)**2*2"]
)
def test_equivalent_forms_pass(text):
    verdict = judge(parse_expression(text, GRADIENT), _cases(), what="[1a] gradient")
    assert verdict.ok, verdict.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", r"\[1a\] gradient: at d = 1, expected \(.*\), found \(.*\)"),
        ("2*x**2", r"at d = 1, expected"),
        ("norm(x)**2", r"expected a vector of length 1, found a number"),
        ("-2*x", r"expected"),
    ],
)
def test_wrong_forms_fail_with_expected_and_found(text, message):
    verdict = judge_numeric(parse_expression(text, GRADIENT), _cases(), what="[1a] gradient")
    assert not verdict.ok
    assert verdict.message
    assert re.search(message, verdict.message), verdict.message


def test_numeric_overflow_is_rescued_by_a_symbolic_proof():
    # exp(800) overflows to inf and inf*0 is nan, yet the answer is exactly 2x.
    expression = parse_expression("2*x + 0*exp(800)", GRADIENT)
    assert not judge_numeric(expression, _cases(), what="g").ok
    verdict = judge(expression, _cases(), what="g", symbolic=_symbolic())
    assert verdict.ok
    assert verdict.symbolic == "equivalent"


def test_wrong_answer_stays_wrong_when_sympy_cannot_prove_it():
    verdict = judge(parse_expression("3*x", GRADIENT), _cases(), what="g", symbolic=_symbolic())
    assert not verdict.ok
    assert verdict.symbolic == "not proven"


def test_prove_zero_in_a_worker():
    a, b = sympy.symbols("a b")
    assert prove_zero(sympy.sin(a) ** 2 + sympy.cos(a) ** 2 - 1) == "zero"
    assert prove_zero(sympy.Matrix([a - a, b])) == "not proven"
