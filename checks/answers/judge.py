"""Judge an expression answer: numerically at seeded random points, symbolically as a fallback.

The numeric comparison decides in nearly every case. When it fails, and the
question has a symbolic form, sympy gets a bounded chance to prove the answer
equal anyway (an answer that is right but numerically ill-conditioned must
not lose points). Shapes are compared before values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.answers.evaluate import Env, SymbolicUnavailable, SympyBackend, evaluate
from checks.answers.language import Expression
from checks.answers.symbolic import prove_zero
from checks.scoring import CheckFailed, describe, describe_shape


@dataclass(frozen=True)
class Case:
    """One numeric test point: the inputs, the reference value, and how to name the point."""

    env: Env
    expected: Any
    where: str


@dataclass(frozen=True)
class SymbolicCase:
    """Symbolic inputs (sympy symbols and matrices) and the reference in sympy form."""

    env: Env
    expected: Any


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""
    symbolic: str = "not needed"  # or: equivalent, not proven, timeout, unavailable: ...


def judge_numeric(
    expression: Expression,
    cases: Sequence[Case],
    *,
    what: str,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Verdict:
    """Compare `expression` with each case's expected value; the first mismatch is the verdict."""
    for case in cases:
        found = np.asarray(evaluate(expression, case.env), dtype=float)
        expected = np.asarray(case.expected, dtype=float)
        if found.shape != expected.shape:
            return Verdict(
                False,
                f"{what}: expected {describe_shape(expected.shape)}, "
                f"found {describe_shape(found.shape)} (at {case.where})",
            )
        if not np.all(np.isfinite(found)):
            return Verdict(False, f"{what}: evaluates to inf or nan at {case.where}")
        if not np.allclose(found, expected, rtol=rtol, atol=atol):
            return Verdict(
                False,
                f"{what}: at {case.where}, expected {describe(expected)}, found {describe(found)}",
            )
    return Verdict(True)


def judge(
    expression: Expression,
    cases: Sequence[Case],
    *,
    what: str,
    symbolic: SymbolicCase | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    timeout_s: float = 10.0,
) -> Verdict:
    """Numeric verdict, overturned only by a sympy proof of equivalence."""
    verdict = judge_numeric(expression, cases, what=what, rtol=rtol, atol=atol)
    if verdict.ok or symbolic is None:
        return verdict
    try:
        found = evaluate(expression, symbolic.env, SympyBackend())
    except SymbolicUnavailable as exc:
        return Verdict(False, verdict.message, f"unavailable: {exc}")
    backend = SympyBackend()
    if backend.shape(found) != backend.shape(symbolic.expected):
        return Verdict(False, verdict.message, "not equivalent (shapes differ)")
    proof = prove_zero(found - symbolic.expected, timeout_s)
    if proof == "zero":
        return Verdict(True, "", "equivalent")
    return Verdict(False, verdict.message, proof)


def require(verdict: Verdict) -> None:
    """Turn a negative verdict into the check's failure."""
    if not verdict.ok:
        raise CheckFailed(verdict.message)
