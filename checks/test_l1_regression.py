"""l1-loss linear regression: fall2023 problem 2 = spring2023 problem 1.

Truth from `reference.l1_regression`: the loss function, the sizes, and
whether a closed form exists (derived there, not typed here).
"""

from __future__ import annotations

import numpy as np
import pytest

from checks.answers.evaluate import Env
from checks.answers.judge import Case, judge_numeric
from checks.scoring import CheckFailed, PartialCredit, describe
from reference import l1_regression

SEED = 2002


@pytest.mark.part(fall2023="2a", spring2023="1a")
def test_l1_loss_in_matrix_form(answers, part, record):
    """Half the points for the loss expression, a sixth for each of the three sizes."""
    section = answers.section(part.id)
    expression = section.expression("loss")
    # Read before the reference is asked: on a student's machine the form is all that is checked.
    sizes = {name: tuple(dim.lower() for dim in section.size(name)) for name in ("X", "w", "y")}
    rng = np.random.default_rng(SEED)
    cases = []
    for n, d in ((4, 2), (6, 3), (5, 1)):
        X, w, y = rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n)
        cases.append(
            Case(
                Env(values={"X": X, "w": w, "y": y, "n": n, "d": d}),
                l1_regression.l1_loss(X, w, y),
                f"n = {n}, d = {d}, w = {describe(w)}",
            )
        )
    verdict = judge_numeric(expression, cases, what=section.what("loss"))
    problems = [] if verdict.ok else [verdict.message]
    sizes_right = 0
    for name in ("X", "w", "y"):
        expected = getattr(l1_regression.SIZES, name)
        found = sizes[name]
        if found == expected:
            sizes_right += 1
        else:
            problems.append(
                f"{section.what(name)}: expected {' x '.join(expected)}, found {' x '.join(found)}"
            )
    fraction = (0.5 if verdict.ok else 0.0) + sizes_right / 6
    record.add("sizes_right", sizes_right)
    if fraction == 0:
        raise CheckFailed("; ".join(problems))
    if problems:
        raise PartialCredit(fraction, "; ".join(problems))


@pytest.mark.part(fall2023="2b", spring2023="1b")
def test_no_closed_form(answers, part, record):
    """The yes/no decides; a missing reason halves the points. The TA sees the reason."""
    section = answers.section(part.id)
    claimed = section.boolean("closed_form")
    reason = section.text("reason") if section.has("reason") else ""
    record.add("reason", reason)
    truth = l1_regression.CLOSED_FORM_EXISTS
    if claimed != truth:
        raise CheckFailed(
            f"{section.what('closed_form')}: expected {str(truth).lower()}, "
            f"found {str(claimed).lower()}"
        )
    if not reason:
        raise PartialCredit(0.5, f"{section.what('reason')}: give a reason for your answer")


@pytest.mark.part(fall2023="2c", spring2023="1c")
def test_reflection(answers, part, record):
    """Manual: extract the text for the TA."""
    section = answers.section(part.id)
    text = section.text("reflection")
    record.add("text", text)
    if not text:
        raise CheckFailed(f"{section.what('reflection')} is empty")
