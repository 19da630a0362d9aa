"""Problem 3a (fall2023): weights of the 1-4-1 ReLU net that fit each dataset exactly.

Judged by the residual on the TRUE data points, never by comparing weights:
many exact fits exist. Students print ~8 significant digits, so an honest fit
can miss a point by ~1e-7; the tolerance is 1e-4. The parameters come from
answers.toml `[3a]` when given, else from everything the problem-3 notebook
held over its run (the value history: a variable reused for both datasets
still counts for each), in every plausible parameter order (checks.p3_fits).
Each dataset is judged by its best candidate, and the part says which
variable, cell and order fitted. A `[3a]` giving one dataset only leaves the
other to the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from checks.answers.errors import AnswerError
from checks.p3_fits import STANDARD, Candidate, Fit, assembled, fits
from checks.scoring import CheckFailed, prerequisite_failed
from dlgrade.engine import Kept, NotebookRun
from dlgrade.engine.cells import cell_problem
from reference import relu_fit

TOLERANCE = 1e-4
DATASETS = {"3a-1": (relu_fit.DATASET_1, "dataset1"), "3a-2": (relu_fit.DATASET_2, "dataset2")}
MAX_PIECES, MAX_SCALARS = 8, 24  # bounds the W_H/b_H/W_O/b_O combinations tried per cell
LOOKED_FOR = (
    "13-number vectors, arrays or lists of fits, OptimizeResult.x, fsolve full_output, "
    "tensors, a 1-4-1 torch module, separate W_H/b_H/W_O/b_O"
)


@dataclass
class Pool:
    """Candidate parameter sets per answers key (dataset1/dataset2), and their origin."""

    origin: str
    vectors: dict[str, list[Candidate]]
    pieces: list[Candidate] = field(default_factory=list)  # assembled: standard order only
    run: NotebookRun | None = None
    given: frozenset[str] = frozenset()  # keys answers.toml gave: judged on that answer alone

    def origin_of(self, key: str) -> str:
        return "answers.toml" if key in self.given else self.origin

    def ranked(self, key: str, dataset: relu_fit.DataPoints) -> list[Fit]:
        """Every reading of every candidate, best first. Among fits within the tolerance,
        a variable of the student's beats IPython's output history (`Out[4]`)."""
        pieces = [] if key in self.given else self.pieces
        found = fits(self.vectors.get(key, []), dataset) + fits(pieces, dataset, (STANDARD,))
        return sorted(found, key=lambda f: (f.miss > TOLERANCE, _is_output(f), f.miss))

    def closest(self, key: str, dataset: relu_fit.DataPoints) -> Fit:
        """The candidate to show when nothing fits: a whole vector when there is one
        (pieces combined at random from unrelated 4-vectors explain nothing), a variable
        rather than IPython's `Out[n]` copy of it, read in the standard order unless
        another order comes ten times closer."""
        vectors = self.vectors.get(key, [])
        if not vectors:
            return self.ranked(key, dataset)[0]
        standard = min(fits(vectors, dataset, (STANDARD,)), key=_blame_order)
        anywhere = min(fits(vectors, dataset), key=_blame_order)
        return anywhere if anywhere.miss < 0.1 * standard.miss else standard


@pytest.fixture(scope="session")
def p3_candidates(answers, notebooks) -> Pool:
    return candidate_pool(answers, notebooks)


def candidate_pool(answers, notebooks) -> Pool:
    """The parameter sets to judge: answers.toml's `[3a]`, the notebook's for what it leaves out."""
    given = _given(answers)
    if len(given) == len(DATASETS):
        return Pool("answers.toml", given)
    problem = notebooks.get("p3")
    if problem.run is None:
        if given:  # the dataset answers.toml leaves out is reported as not found there
            return Pool("answers.toml", given)
        prerequisite_failed(
            f"no [3a] parameters in answers.toml and {problem.reason}", problem.status
        )
    vectors, pieces = from_history(problem.run.kept("p3"))
    # A dataset answers.toml gives is judged on that answer; the other one on the notebook.
    found = {key: given.get(key, vectors) for _, key in DATASETS.values()}
    return Pool(problem.source_name, found, pieces, problem.run, frozenset(given))


def _given(answers) -> dict[str, list[Candidate]]:
    """The datasets `[3a]` in answers.toml gives, as candidates (none without the section)."""
    try:
        section = answers.optional_section("3a-1")
    except AnswerError:
        return {}  # a broken answers file is reported by the theory parts
    if section is None:
        return {}
    return {
        key: [Candidate(f"answers.toml [3a] {key}", section.numbers(key))]
        for _, key in DATASETS.values()
        if section.has(key)
    }


def from_history(kept: Sequence[Kept]) -> tuple[list[Candidate], list[Candidate]]:
    """(13-number candidates, candidates assembled from pieces) out of the P3 watch's history.

    Entries are untrusted data: anything not shaped as the watch writes it is ignored.
    """
    vectors: list[Candidate] = []
    pieces: list[Candidate] = []
    fours: dict[str, np.ndarray] = {}
    scalars: dict[str, float] = {}
    by_cell: dict[int, list[tuple[str, str, np.ndarray]]] = {}
    for entry in kept:
        parsed = _entry(entry.value)
        if parsed is not None:
            by_cell.setdefault(entry.cell_index, []).append(parsed)
    for cell in sorted(by_cell):
        new_piece = False
        for path, kind, values in by_cell[cell]:
            where = f"`{path}` after cell {cell + 1}"
            if kind in ("vector", "module") and values.size == relu_fit.N_PARAMS:
                vectors.append(Candidate(where, values))
            elif kind == "four" and values.size == 4:
                fours[path] = values
                new_piece = True
            elif kind == "scalar" and values.size == 1:
                scalars[path] = float(values[0])
        if new_piece and len(fours) >= 3 and scalars:
            recent = list(fours.items())[-MAX_PIECES:]
            ones = list(scalars.items())[-MAX_SCALARS:]
            for candidate in assembled(recent, ones):
                pieces.append(
                    Candidate(f"{candidate.where} after cell {cell + 1}", candidate.values)
                )
    return vectors, pieces


def _is_output(fit: Fit) -> bool:
    return fit.candidate.where.startswith("`Out[")


def _blame_order(fit: Fit) -> tuple[float, bool]:
    return (fit.miss, _is_output(fit))


def _entry(value: object) -> tuple[str, str, np.ndarray] | None:
    if not isinstance(value, dict):
        return None
    path, kind, numbers = value.get("path"), value.get("kind"), value.get("values")
    if not (isinstance(path, str) and isinstance(kind, str) and isinstance(numbers, list)):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        return None
    array = np.asarray(numbers, dtype=float)
    return (path[:200], kind, array) if np.all(np.isfinite(array)) else None


@pytest.mark.part(fall2023="3a-1")
def test_fit_dataset_1(p3_candidates, record):
    judge_fit("3a-1", p3_candidates, record)


@pytest.mark.part(fall2023="3a-2")
def test_fit_dataset_2(p3_candidates, record):
    judge_fit("3a-2", p3_candidates, record)


def judge_fit(part: str, pool: Pool, record) -> None:
    dataset, key = DATASETS[part]
    ranked = pool.ranked(key, dataset)
    if not ranked:
        raise CheckFailed(_not_found(dataset, key, pool))
    best = ranked[0]
    if best.miss <= TOLERANCE:
        record.add("found", f"{best.describe()}: largest miss on {dataset.name} = {best.miss:.2g}")
        return
    if dataset is relu_fit.DATASET_2:
        misread = [f for f in pool.ranked(key, relu_fit.DATASET_2_MISREAD) if f.miss <= TOLERANCE]
        if misread:
            record.add("found", f"{misread[0].describe()} fits the misread dataset 2")
            raise CheckFailed(_misread_message(misread[0]))
    closest = pool.closest(key, dataset)
    record.add("found", f"closest: {closest.describe()}, largest miss {closest.miss:.2g}")
    raise CheckFailed(_miss_message(dataset, closest, pool.origin_of(key)))


ANSWERS_HINT = (
    "If your fitted weights are only printed, give them in answers.toml: [3a] "
    "dataset1 = [13 numbers], dataset2 = [13 numbers] (order W_H1..4, b_H1..4, W_O1..4, b_O; "
    "see docs/answers.md)"
)


def _not_found(dataset: relu_fit.DataPoints, key: str, pool: Pool) -> str:
    message = (
        f"no parameter set for {dataset.name} was found in {pool.origin_of(key)} (looked for {LOOKED_FOR}, "
        f"in any parameter order). {ANSWERS_HINT}"
    )
    failed = (
        [p for p in (cell_problem(c, pool.run.cells) for c in pool.run.cells) if p]
        if pool.run
        else []
    )
    if failed:
        message += f". Note: {failed[0]}"
    return message


def _miss_message(dataset: relu_fit.DataPoints, fit: Fit, origin: str) -> str:
    residuals = relu_fit.residuals(fit.theta, dataset)
    worst = int(np.argmax(np.abs(residuals)))
    message = (
        f"no parameter set in {origin} fits {dataset.name}. The closest, {fit.describe()}, "
        f"gives {dataset.y[worst] + residuals[worst]:.6g} at x = {dataset.x[worst]:g} where the "
        f"data say {dataset.y[worst]:g} (largest miss {abs(residuals[worst]):.3g}; "
        f"allowed {TOLERANCE:g})"
    )
    return message if origin == "answers.toml" else f"{message}. {ANSWERS_HINT}"


def _misread_message(fit: Fit) -> str:
    true, misread = relu_fit.DATASET_2, relu_fit.DATASET_2_MISREAD
    miss = float(np.abs(relu_fit.residuals(fit.theta, true)).max())
    return (
        f"{fit.describe()} fits y = {', '.join(f'{v:g}' for v in misread.y)}, but the plot "
        f"shows y = {', '.join(f'{v:g}' for v in true.y)}: after x = 5 the slope is 0.5, not 1 "
        f"(on the true dataset 2 it misses by up to {miss:.3g})"
    )
