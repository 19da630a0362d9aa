"""pytest plugin: the checks judge kept evidence instead of new kernels when they may.

Loaded with `-p dlgrade.evidence.plugin --evidence-dir DIR --evidence keep|reuse`
(dlgrade.grading.pytest_args adds it). Through `checks.notebook_runs.RUNS_OVERRIDE`
it hands the `notebooks` fixture the same `NotebookRuns` the checks' conftest
would build, with an `EvidenceStore`: every run is kept in DIR, and with
`reuse` a run whose key still matches is judged from DIR without a kernel.

A checks folder without notebook runs (a stand-in, say) is left alone.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dlgrade.evidence.store import EvidenceStore
from dlgrade.grading.grader import Grader, grader_for

RUNS_MODULE = "checks.notebook_runs"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade-evidence", "judging kept evidence")
    group.addoption("--evidence-dir", metavar="DIR", default=None, help="keep runs here")
    group.addoption(
        "--evidence",
        choices=("keep", "reuse"),
        default="keep",
        help="keep: run every notebook and keep its evidence; reuse: judge kept evidence "
        "whose key matches, run the others",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    folder = config.getoption("evidence_dir")
    module = sys.modules.get(RUNS_MODULE)  # imported by the checks' conftest, if theirs
    if not folder or module is None or module.RUNS_OVERRIDE in config.stash:
        return  # no evidence asked for, no notebook runs, or a front end supplies the runs
    grader = grader_for(config)
    if grader.submission is None:
        return
    reuse = config.getoption("evidence") == "reuse"
    store = EvidenceStore(Path(folder), grader.submission, _data_slice(grader), reuse)
    config.stash[module.RUNS_OVERRIDE] = LazyRuns(lambda: _notebook_runs(grader, module, store))


def _data_slice(grader: Grader) -> str:
    return f"{'quick' if grader.quick else 'full'}/{grader.isolation_mode}"


def _notebook_runs(grader: Grader, module: Any, store: EvidenceStore) -> Any:
    """What checks/conftest.py's `notebooks` fixture builds, with the evidence store."""
    from dlgrade.engine import discover

    probes = importlib.import_module("checks.probes")
    found = discover(grader.submission)
    for link in found.links:  # as the conftest's `submission` fixture names them
        grader.observe(link.name, "link-refused", link.message)
    return module.NotebookRuns(
        found,
        module.sandbox_config(grader.quick, grader.isolation_mode),
        probes.probes_by_problem(retrain=grader.retrain),
        lambda o: grader.observe(o.source, o.kind, o.message),
        probes.WATCHES_BY_PROBLEM,
        evidence=store,
    )


class LazyRuns:
    """`NotebookRuns`, built when a check first asks (as the conftest's fixture would)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._runs: Any = None

    def _inner(self) -> Any:
        if self._runs is None:
            self._runs = self._build()
        return self._runs

    def get(self, problem: str) -> Any:
        return self._inner().get(problem)

    def choice(self, problem: str) -> Any:
        return self._inner().choice(problem)

    @property
    def runs(self) -> list:
        return self._runs.runs if self._runs is not None else []

    def failed_cells(self) -> list:
        return self._runs.failed_cells() if self._runs is not None else []
