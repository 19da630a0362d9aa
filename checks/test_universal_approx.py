"""Problem 2 (spring2023): boxes from step neurons and universal approximation.

Truth from `reference.universal_approx`: `box`, `sum_of_boxes` and
`boxes_needed`. Students' functions are evaluated on seeded random points,
which almost surely avoid the jumps where conventions for step(0) differ.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
import sympy

from checks.answers.evaluate import Env, evaluate
from checks.answers.judge import Case, SymbolicCase, judge, require
from checks.answers.language import Expression
from checks.scoring import CheckFailed
from reference import universal_approx

SEED = 4004
B = 2.0
DELTAS = (0.5, 0.25, 0.125, 0.0625)  # divide 2B exactly, so K = 2B/delta is whole
# Left endpoints instead of midpoints double the error: allow a little more than that.
ERROR_SLACK = 2.5


def smooth_test_function(t: np.ndarray) -> np.ndarray:
    """A smooth f with slopes of both signs and a curvature change on [-B, B]."""
    t = np.asarray(t, dtype=float)
    return np.sin(1.3 * t) + 0.25 * t**2


def _require_calls(expression: Expression, what: str, names: tuple[str, ...]) -> None:
    """The construction is the point: f(x) itself is exact but is not a sum of boxes."""
    called = {
        node.func.id
        for node in ast.walk(expression.tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    missing = [name for name in names if name not in called]
    if missing:
        raise CheckFailed(f"{what}: build it from {' and '.join(f'{n}(...)' for n in missing)}")


def _on_points(value: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A constant answer (no x in it) is a constant function: spread it over the points."""
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return np.broadcast_to(value, x.shape)
    if value.shape != x.shape:
        raise CheckFailed(f"expected one number per x, found values of shape {value.shape}")
    return value


@pytest.mark.part(spring2023="2a")
def test_box_from_two_steps(answers, part):
    section = answers.section(part.id)
    expression = section.expression("box")
    _require_calls(expression, section.what("box"), ("step",))
    rng = np.random.default_rng(SEED)
    for _ in range(4):
        h, delta = rng.uniform(0.5, 3.0), rng.uniform(0.2, 2.0)
        x = rng.uniform(-2 * delta, 3 * delta, size=400)
        found = _on_points(evaluate(expression, Env(values={"x": x, "h": h, "delta": delta})), x)
        expected = universal_approx.box(x, h, delta)
        wrong = np.flatnonzero(~np.isclose(found, expected, rtol=1e-9, atol=1e-9))
        if wrong.size:
            i = wrong[0]
            raise CheckFailed(
                f"{section.what('box')}: with h = {h:.3g}, delta = {delta:.3g}, at x = {x[i]:.4g} "
                f"expected {expected[i]:.4g}, found {found[i]:.4g}"
            )


@pytest.mark.part(spring2023="2b")
def test_sum_of_boxes_converges(answers, part, record):
    """Max error on [-B, B] must shrink with delta, staying near the reference construction's."""
    section = answers.section(part.id)
    expression = section.expression("approximation")
    _require_calls(expression, section.what("approximation"), ("sum_k", "step"))
    x = np.random.default_rng(SEED + 1).uniform(-B, B, size=3000)
    truth = smooth_test_function(x)
    rows = []
    for delta in DELTAS:
        count = round(2 * B / delta)
        env = Env(
            values={"x": x, "B": B, "delta": delta, "K": count},
            families={"c_k": -B + delta * np.arange(count)},
            ranges={"k": count},
            functions={"f": smooth_test_function},
        )
        found = _on_points(evaluate(expression, env), x)
        reference = universal_approx.sum_of_boxes(smooth_test_function, B, delta)(x)
        rows.append((delta, _max_error(found, truth), _max_error(reference, truth)))
    record.add("errors", [{"delta": d, "student": s, "reference": r} for d, s, r in rows])
    table = ", ".join(f"delta = {d:g}: {s:.3g} (reference {r:.3g})" for d, s, r in rows)
    student = [s for _, s, _ in rows]
    if any(later > earlier * 1.05 for earlier, later in zip(student, student[1:], strict=False)):
        raise CheckFailed(
            f"{section.what('approximation')}: the max error does not shrink with delta: {table}"
        )
    if any(s > ERROR_SLACK * r + 1e-9 for _, s, r in rows):
        raise CheckFailed(
            f"{section.what('approximation')}: the max error on [-B, B] is much larger than a "
            f"sum of boxes of width delta gives (f(t) = sin(1.3t) + t^2/4, B = {B:g}): {table}"
        )


def _max_error(found: np.ndarray, truth: np.ndarray) -> float:
    error = np.abs(found - truth)
    return float(np.max(error)) if np.all(np.isfinite(error)) else float("inf")


@pytest.mark.part(spring2023="2c")
def test_boxes_needed(answers, part, record):
    """(B/delta)^d, as the reference counts; (2B/delta)^d, the exact tiling count, is also right."""
    section = answers.section(part.id)
    expression = section.expression("boxes")
    rng = np.random.default_rng(SEED + 2)
    points = [(rng.uniform(1, 4), rng.uniform(0.1, 0.9), d) for d in (1, 2, 3, 4)]
    verdicts = []
    for factor in (1, 2):  # the count up to the constant 2^d, and the exact tiling count
        cases = [
            Case(
                Env(values={"B": b, "delta": delta, "d": d}),
                factor**d * universal_approx.boxes_needed(b, delta, d),
                f"B = {b:.3g}, delta = {delta:.3g}, d = {d}",
            )
            for b, delta, d in points
        ]
        symbols = sympy.symbols("B delta d", positive=True)
        symbolic = SymbolicCase(
            Env(values=dict(zip(("B", "delta", "d"), symbols, strict=True))),
            factor ** symbols[2] * universal_approx.boxes_needed_expr(),
        )
        verdict = judge(
            expression,
            cases,
            what=section.what("boxes"),
            symbolic=symbolic if factor == 1 else None,
        )
        if verdict.ok:
            record.add("matched", "(B/delta)^d" if factor == 1 else "(2B/delta)^d")
            return
        verdicts.append(verdict)
    require(verdicts[0])


@pytest.mark.part(spring2023="2d")
def test_conclusion(answers, part, record):
    """Manual: extract the text for the TA."""
    section = answers.section(part.id)
    text = section.text("conclusion")
    record.add("text", text)
    if not text:
        raise CheckFailed(f"{section.what('conclusion')} is empty")
