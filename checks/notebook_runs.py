"""Run each notebook of a submission once per grading session, with every probe it needs.

A notebook may hold several problems; it runs once with the union of their
probes and watches. Checks ask for a problem and get its `ProblemRun`: the
engine's `NotebookRun`, or the one reason there is none (no notebook,
unreadable file), which every check of that problem then reports. When two
files hold one problem, `checks.sources.choose` picks the more complete one
and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from checks.sources import Choice, choose
from dlgrade.engine import NotebookRun, Probe, SandboxConfig, SourceFile, Submission, run_notebook
from dlgrade.engine.budgets import budgets
from dlgrade.engine.records import Watch
from dlgrade.records import Observation

# Reference modules (manifest `problem`) whose checks read a notebook, by engine problem id.
NOTEBOOK_PROBLEMS = {"relu_fit": "p3", "fashion_mlp": "p4", "numpy_backprop": "p5"}
# A front end that runs the probes itself puts, under this key of the pytest
# config's stash, an object with NotebookRuns' `get`, `choice` and `runs`; the
# `notebooks` fixture then hands it out instead of sandboxed runs. dlgrade.student
# does, to check a student's live kernel from inside their notebook.
RUNS_OVERRIDE = pytest.StashKey[Any]()


@dataclass(frozen=True)
class ProblemRun:
    problem: str
    run: NotebookRun | None
    reason: str = ""  # why there is no run
    note: str = ""  # which file was graded when several held the problem, and why

    @property
    def source_name(self) -> str:
        return self.run.source.path.name if self.run else ""


class NotebookRuns:
    """Lazily runs the submission's notebooks; results are cached per source file."""

    def __init__(
        self,
        submission: Submission,
        config: SandboxConfig,
        probes: dict[str, Callable[[], list[Probe]]],
        observe: Callable[[Observation], None],
        watches: dict[str, Callable[[], list[Watch]]] | None = None,
    ) -> None:
        self.submission = submission
        self.config = config
        self.probes = probes
        self.watches = watches or {}
        self.observe = observe
        self._runs: dict[Path, NotebookRun] = {}

    def choice(self, problem: str) -> Choice | None:
        """The file that will be graded for `problem` (None when no readable file holds it)."""
        sources = [s for s in self.submission.for_problem(problem) if s.status == "ok"]
        return choose(problem, sources) if sources else None

    def get(self, problem: str) -> ProblemRun:
        choice = self.choice(problem)
        if choice is None:
            return ProblemRun(problem, None, self._missing_reason(problem))
        source = choice.chosen
        if source.path not in self._runs:
            if choice.note:
                self.observe(Observation(source.path.name, "source-chosen", choice.note))
            self._runs[source.path] = self._execute(source)
        return ProblemRun(problem, self._runs[source.path], note=choice.note)

    def _execute(self, source: SourceFile) -> NotebookRun:
        probes = [
            replace(p, problem=pid)
            for pid in source.problem_ids
            if pid in self.probes
            for p in self.probes[pid]()
        ]
        watches = [
            w for pid in source.problem_ids if pid in self.watches for w in self.watches[pid]()
        ]
        run = run_notebook(
            source, probes, self.config, workdir_from=self.submission.path, watches=watches
        )
        for observation in run.observations:
            self.observe(observation)
        return run

    @property
    def runs(self) -> list[NotebookRun]:
        return list(self._runs.values())

    def _missing_reason(self, problem: str) -> str:
        broken = [s for s in self.submission.sources if s.status == "malformed"]
        found = ", ".join(s.path.name for s in self.submission.sources) or "no notebooks"
        reason = f"no notebook for problem {problem[1:]} was found (the folder has: {found})"
        if broken:
            details = "; ".join(f"{s.path.name}: {s.error}" for s in broken)
            reason += f"; unreadable: {details}"
        return reason


def sandbox_config(quick: bool) -> SandboxConfig:
    """The engine settings for a grading run: time budgets scaled to this machine
    (dlgrade.engine.budgets); quick mode trains on data slices."""
    limits = budgets(quick)
    return SandboxConfig(
        quick=quick, cell_timeout_s=limits.cell_s, notebook_timeout_s=limits.notebook_s
    )
