"""Problem 3a: finding parameter sets wherever a notebook kept them, in any order.

Unit tests of the layouts and the judge (no kernel), then one real sandboxed
run whose notebook holds the fits in the forms students use.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from checks.answers.loading import AnswersSource
from checks.notebook_runs import ProblemRun
from checks.p3_fits import LAYOUTS, STANDARD, Candidate, fits
from checks.probes import p3_watches
from checks.scoring import CheckFailed
from checks.test_relu_fit import Pool, candidate_pool, from_history, judge_fit
from dlgrade.engine import Kept, NotebookRun, SandboxConfig, run_notebook
from dlgrade.engine.records import SourceFile
from reference import relu_fit

# The exact fits ASSIGNMENT.md gives, in the standard order W_H, b_H, W_O, b_O.
FIT_1 = np.array([1, 1, 1, 1, 0, -4, -6, -8, -2, 4, -4, 4, 8], dtype=float)
FIT_2 = np.array([1, 1, 1, 1, 0, -3, -5, 0, 1, -2, 1.5, 0, 0], dtype=float)
MISREAD_2 = relu_fit.fit(relu_fit.DATASET_2_MISREAD, seed=1).theta


class Details(dict):
    def add(self, key, value):
        self[key] = value


def in_order(theta: np.ndarray, layout_name: str) -> np.ndarray:
    """θ written in a student's order (the inverse of Layout.to_theta)."""
    layout = next(lay for lay in LAYOUTS if lay.name == layout_name)
    return theta[list(layout.order)]


def test_the_assignments_fits_fit_and_layouts_invert():
    for theta, data in ((FIT_1, relu_fit.DATASET_1), (FIT_2, relu_fit.DATASET_2)):
        assert np.abs(relu_fit.residuals(theta, data)).max() < 1e-12
    assert len({lay.order for lay in LAYOUTS}) == len(LAYOUTS) >= 40
    for layout in LAYOUTS:
        assert sorted(layout.order) == list(range(13))
        np.testing.assert_array_equal(layout.to_theta(FIT_1[list(layout.order)]), FIT_1)


@pytest.mark.parametrize(
    "layout_name",
    [
        "b_O, W_O1..4, b_H1..4, W_H1..4",
        "unit by unit (W_H, b_H, W_O), then b_O",
        "b_O, then unit by unit (W_O, W_H, b_H)",
        "(W_H, b_H) per unit, W_O, b_O",
    ],
)
def test_a_fit_in_the_students_own_order_fits_and_the_order_is_named(layout_name):
    pool = Pool(
        "nb.ipynb", {"dataset1": [Candidate("`params` after cell 3", in_order(FIT_1, layout_name))]}
    )
    details = Details()
    judge_fit("3a-1", pool, details)
    assert f"`params` after cell 3, read in the order {layout_name}" in details["found"]


def test_a_standard_order_fit_does_not_mention_the_order():
    details = Details()
    judge_fit("3a-1", Pool("nb", {"dataset1": [Candidate("`theta` after cell 2", FIT_1)]}), details)
    assert details["found"].startswith("`theta` after cell 2: largest miss")


def test_wrong_weights_fail_naming_the_closest_and_the_worst_point():
    wrong = FIT_1.copy()
    wrong[12] = 7.5  # b_O off by 0.5: every point misses by 0.5
    pool = Pool("nb.ipynb", {"dataset1": [Candidate("`sol` after cell 4", wrong)]})
    with pytest.raises(
        CheckFailed,
        match=r"no parameter set in nb.ipynb fits dataset 1\. The closest, `sol` after cell 4",
    ) as err:
        judge_fit("3a-1", pool, Details())
    assert "largest miss 0.5" in err.value.message


def test_the_misread_dataset_2_is_named():
    pool = Pool("nb.ipynb", {"dataset2": [Candidate("`solution` after cell 9", MISREAD_2)]})
    with pytest.raises(CheckFailed, match="after x = 5 the slope is 0.5, not 1"):
        judge_fit("3a-2", pool, Details())


def test_nothing_found_points_to_answers_toml():
    with pytest.raises(CheckFailed, match=r"answers.toml: \[3a\] dataset1"):
        judge_fit("3a-1", Pool("HW1P3.ipynb", {"dataset1": []}), Details())


def kept(cell: int, seq: int, path: str, kind: str, values) -> Kept:
    return Kept(
        cell, "candidate", {"path": path, "kind": kind, "values": list(map(float, values))}, seq
    )


def test_history_keeps_both_values_of_a_reused_name_and_assembles_pieces():
    entries = [
        kept(3, 0, "solution", "vector", FIT_1),
        kept(5, 1, "solution", "vector", FIT_2),
        kept(7, 2, "W_O", "four", FIT_2[8:12]),
        kept(7, 3, "b_H", "four", FIT_2[4:8]),
        kept(7, 4, "W_H", "four", FIT_2[0:4]),
        kept(7, 5, "b_O", "scalar", FIT_2[12:]),
        Kept(7, "candidate", {"path": "bad", "kind": "vector", "values": ["x"] * 13}, 6),
        Kept(7, "candidate", "not a dict", 7),
    ]
    vectors, pieces = from_history(entries)
    assert [c.where for c in vectors] == ["`solution` after cell 4", "`solution` after cell 6"]
    best = fits(pieces, relu_fit.DATASET_2, (STANDARD,))[0]
    assert best.miss < 1e-12
    assert best.candidate.where == "`W_H`, `b_H`, `W_O`, `b_O` as W_H, b_H, W_O, b_O after cell 8"


class OneRun:
    """`notebooks` as the P3 fixture sees it: one finished run of HW1P3.ipynb."""

    def __init__(self, tmp_path: Path, kept_values: tuple[Kept, ...]) -> None:
        source = SourceFile(tmp_path / "HW1P3.ipynb", "ipynb", "ok", problem_ids=("p3",))
        self.run = NotebookRun(source, "ok", (), {}, (), (), "none", 0.0, {"p3": kept_values})
        self.asked: list[str] = []

    def get(self, problem: str) -> ProblemRun:
        self.asked.append(problem)
        return ProblemRun(problem, self.run)


def answers_with(tmp_path: Path, section: str) -> AnswersSource:
    path = tmp_path / "answers.toml"
    path.write_text(f'assignment = "fall2023"\n\n[3a]\n{section}\n')
    return AnswersSource.load(path, "fall2023")


def test_a_partial_3a_leaves_the_other_dataset_to_the_notebook(tmp_path):
    answers = answers_with(tmp_path, f"dataset1 = {FIT_1.tolist()}")
    notebooks = OneRun(tmp_path, (kept(4, 0, "theta2", "vector", FIT_2),))
    pool = candidate_pool(answers, notebooks)
    first, second = Details(), Details()
    judge_fit("3a-1", pool, first)
    judge_fit("3a-2", pool, second)
    assert first["found"].startswith("answers.toml [3a] dataset1: largest miss")
    assert second["found"].startswith("`theta2` after cell 5: largest miss")


def test_a_given_dataset_is_judged_on_the_answer_not_on_the_notebook(tmp_path):
    wrong = FIT_1.copy()
    wrong[12] = 7.0  # the answer misses every point by 1; the notebook holds the right fit
    answers = answers_with(tmp_path, f"dataset1 = {wrong.tolist()}")
    notebooks = OneRun(tmp_path, (kept(2, 0, "theta", "vector", FIT_1),))
    with pytest.raises(CheckFailed, match="no parameter set in answers.toml fits dataset 1"):
        judge_fit("3a-1", candidate_pool(answers, notebooks), Details())


def test_a_complete_3a_never_runs_the_notebook(tmp_path):
    answers = answers_with(tmp_path, f"dataset1 = {FIT_1.tolist()}\ndataset2 = {FIT_2.tolist()}")
    notebooks = OneRun(tmp_path, ())
    pool = candidate_pool(answers, notebooks)
    assert notebooks.asked == [] and pool.origin == "answers.toml"


FORMS = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(c)
        for c in (
            "import numpy as np\nfrom scipy.optimize import fsolve, least_squares\nimport torch\n"
            "x1 = np.arange(13.0); y1 = np.array([8., 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8])\n"
            "x2 = np.arange(11.0); y2 = np.array([0, 1, 2, 3, 2, 1, 1.5, 2, 2.5, 3, 3.5])\n"
            "def net(p, x):\n"
            "    b_o, w_o, b_h, w_h = p[0], p[1:5], p[5:9], p[9:13]\n"
            "    return b_o + np.maximum(0, np.outer(x, w_h) + b_h) @ w_o",
            # dataset 1 in the student's own order, under a name reused for dataset 2 below
            f"solution = np.array({in_order(FIT_1, 'b_O, W_O1..4, b_H1..4, W_H1..4').tolist()})\n"
            "print(np.abs(net(solution, x1) - y1).max())",
            f"solution = np.array({in_order(FIT_2, 'b_O, W_O1..4, b_H1..4, W_H1..4').tolist()})",
            # both fits in one (2, 13) array, an OptimizeResult, fsolve's full_output, a tensor
            f"both = np.stack([np.array({FIT_1.tolist()}), np.array({FIT_2.tolist()})])\n"
            f"res = least_squares(lambda p: p - np.array({FIT_2.tolist()}), np.zeros(13))\n"
            f"out = fsolve(lambda p: p - np.array({FIT_1.tolist()}), np.zeros(13), full_output=True)\n"
            f"t = torch.tensor({FIT_1.tolist()}, requires_grad=True)",
            "x_big = np.zeros((60000, 784))  # big data is never converted",
        )
    ]
)


@pytest.mark.slow
def test_a_real_run_finds_every_form(tmp_path: Path):
    path = tmp_path / "s" / "HW1P3.ipynb"
    path.parent.mkdir()
    nbformat.write(FORMS, path)
    run = run_notebook(
        SourceFile(path, "ipynb", "ok", problem_ids=("p3",)),
        [],
        SandboxConfig(cell_timeout_s=120, notebook_timeout_s=300),
        watches=p3_watches(),
    )
    assert run.status == "ok", run.cells
    vectors, _ = from_history(run.kept("p3"))
    where = {c.where for c in vectors}
    assert {
        "`solution` after cell 2",
        "`solution` after cell 3",
        "`both[0]` after cell 4",
        "`res.x` after cell 4",
        "`out[0]` after cell 4",
        "`t` after cell 4",
    } <= where
    for part in ("3a-1", "3a-2"):
        details = Details()
        judge_fit(part, Pool("HW1P3.ipynb", {"dataset1": vectors, "dataset2": vectors}), details)
        assert "largest miss" in details["found"]
    fits_1 = {f.candidate.where for f in fits(vectors, relu_fit.DATASET_1) if f.miss < 1e-9}
    assert {
        "`solution` after cell 2",
        "`both[0]` after cell 4",
        "`out[0]` after cell 4",
        "`t` after cell 4",
    } <= fits_1
    fits_2 = {f.candidate.where for f in fits(vectors, relu_fit.DATASET_2) if f.miss < 1e-9}
    assert {"`solution` after cell 3", "`both[1]` after cell 4", "`res.x` after cell 4"} <= fits_2
