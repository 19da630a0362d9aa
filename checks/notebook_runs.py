"""Run each notebook of a submission once per grading session, with every probe it needs.

A notebook may hold several problems; it runs once with the union of their
probes and watches. Checks ask for a problem and get its `ProblemRun`: the
engine's `NotebookRun`, or the one reason there is none and the status that
reason earns (no notebook: failed; an unreadable file: malformed; tampering
with the kernel: interfered), which every check of that problem reports.
When two files hold one problem, `checks.sources.choose` picks the more
complete one and says why.

With an `Evidence` store (dlgrade.evidence, supplied through RUNS_OVERRIDE by
its plugin), a run kept by an earlier grading is judged again when nothing
that produced it changed, and every new run is kept.

When a run exists but a probe came back empty because the kernel stopped
(died, was killed at a time limit, was tampered with), `require_probe` turns
that into the same kind of verdict, naming the cell where it happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import pytest

from checks.handoff import find_handoff, review_details
from checks.scoring import ForReview, prerequisite_failed
from checks.sources import Choice, choose
from dlgrade.engine import (
    NotebookRun,
    Probe,
    ProbeResult,
    SandboxConfig,
    SourceFile,
    Submission,
    run_notebook,
)
from dlgrade.engine.budgets import budgets
from dlgrade.engine.cells import describe_cell
from dlgrade.engine.isolation import Isolation
from dlgrade.engine.records import Watch
from dlgrade.records import (
    KERNEL_INTERFERENCE,
    FailedCell,
    Observation,
    ObservationKind,
    PartStatus,
)

# Reference modules (manifest `problem`) whose checks read a notebook, by engine problem id.
NOTEBOOK_PROBLEMS = {"relu_fit": "p3", "fashion_mlp": "p4", "numpy_backprop": "p5"}
# A front end that runs the probes itself puts, under this key of the pytest
# config's stash, an object with NotebookRuns' `get`, `choice` and `runs`; the
# `notebooks` fixture then hands it out instead of sandboxed runs. dlgrade.student
# does, to check a student's live kernel from inside their notebook.
RUNS_OVERRIDE = pytest.StashKey[Any]()
# Why a kernel stopped early, as the part status it earns (SPEC section 1).
STOP_STATUS = {
    ObservationKind.KERNEL_DIED: PartStatus.FAILED,
    ObservationKind.TIMEOUT: PartStatus.TIMEOUT,
    ObservationKind.INTERFERED: PartStatus.INTERFERED,
    ObservationKind.MALFORMED: PartStatus.MALFORMED,
}


class Evidence(Protocol):
    """Where runs are kept and found again (dlgrade.evidence.store.EvidenceStore)."""

    def fetch(
        self, source: SourceFile, probes: Sequence[Probe], watches: Sequence[Watch]
    ) -> NotebookRun | None: ...

    def keep(
        self,
        source: SourceFile,
        probes: Sequence[Probe],
        watches: Sequence[Watch],
        run: NotebookRun,
    ) -> None: ...


@dataclass(frozen=True)
class ProblemRun:
    problem: str
    run: NotebookRun | None
    reason: str = ""  # why there is no run
    # What `reason` earns every part of the problem (manual: handed to a TA, checks.handoff).
    status: PartStatus = PartStatus.FAILED
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
        evidence: Evidence | None = None,
    ) -> None:
        self.submission = submission
        # Runs kept from an earlier grading: reused when nothing that made them changed.
        self.evidence = evidence
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
            return self._without_source(problem)
        source = choice.chosen
        if source.path not in self._runs:
            if choice.note:
                kind = ObservationKind.SOURCE_CHOSEN
                self.observe(Observation(source.path.name, kind, choice.note))
            self._runs[source.path] = self._execute(source)
        run = self._runs[source.path]
        if run.status == "interfered":
            # Nothing a tampered kernel reported can be trusted, even before the tampering.
            reason = interference(run)
            return ProblemRun(problem, None, reason, PartStatus.INTERFERED, choice.note)
        if run.status == "malformed":
            reason = malformed(run.source)
            return ProblemRun(problem, None, reason, PartStatus.MALFORMED, choice.note)
        return ProblemRun(problem, run, note=choice.note)

    def _execute(self, source: SourceFile) -> NotebookRun:
        probes = [
            replace(p, problem=pid)
            for pid in source.problem_ids
            if pid in self.probes
            for p in self.probes[pid]()
        ]
        found = [
            w for pid in source.problem_ids if pid in self.watches for w in self.watches[pid]()
        ]
        watches = list({w.name: w for w in found}.values())  # problems may share a watch
        run = self.evidence.fetch(source, probes, watches) if self.evidence else None
        if run is None:
            run = run_notebook(
                source, probes, self.config, workdir_from=self.submission.path, watches=watches
            )
            if self.evidence is not None:
                self.evidence.keep(source, probes, watches, run)
        for observation in run.observations:
            self.observe(observation)
        return run

    @property
    def runs(self) -> list[NotebookRun]:
        return list(self._runs.values())

    def failed_cells(self) -> list[FailedCell]:
        """Every code cell that raised or timed out, in every notebook run so far."""
        return [cell for run in self.runs for cell in failed_cells(run)]

    def _without_source(self, problem: str) -> ProblemRun:
        """No readable notebook holds `problem`: manual when a file holds it in a framework
        the grader lacks (checks.handoff), malformed if an unreadable file may, else failed."""
        handoff = find_handoff(problem, list(self.submission.sources))
        if handoff is not None:
            details = review_details(handoff)
            saved = "images" in details or "printed" in details
            reason = ForReview(handoff.reason(saved), details)
            return ProblemRun(problem, None, reason, PartStatus.MANUAL)
        broken = [s for s in self.submission.sources if s.status == "malformed"]
        # An unreadable file tagged for this problem, or one whose text gave no tags at all.
        suspects = [s for s in broken if problem in s.problem_ids or not s.problem_ids]
        for source in suspects:
            self.observe(
                Observation(source.path.name, ObservationKind.MALFORMED, str(source.error))
            )
        if suspects:
            reason = "; ".join(malformed(s) for s in suspects)
            return ProblemRun(problem, None, reason, PartStatus.MALFORMED)
        found = ", ".join(s.path.name for s in self.submission.sources) or "no notebooks"
        reason = f"no notebook for problem {problem[1:]} was found (the folder has: {found})"
        # A link is never opened, so it cannot be matched to a problem: name every one.
        links = [link.message for link in self.submission.links if _code_name(link.name)]
        reason = "; ".join([reason, *links])
        return ProblemRun(problem, None, reason, PartStatus.FAILED)


def _code_name(name: str) -> bool:
    return Path(name).suffix in (".ipynb", ".py") or "." not in Path(name).name


def malformed(source: SourceFile) -> str:
    return f"malformed notebook: {source.error or source.path.name + ' could not be read'}"


def interference(run: NotebookRun) -> str:
    """'the notebook interfered with the grader's kernel messages in cell 3 (`...`); ...'."""
    cell = next((c for c in run.cells if c.error_name == "KernelInterference"), None)
    where = f" in {describe_cell(cell)}" if cell else ""
    return f"{KERNEL_INTERFERENCE}{where}; nothing its kernel reported can be trusted"


def require_probe(run: NotebookRun, result: ProbeResult, what: str) -> None:
    """End the check when probe `result` has nothing because the kernel stopped.

    A kernel that died because of the student's code is `failed`, one stopped
    at a time limit `timeout`, tampering `interfered`; the message names what
    happened and the cell. Returns when the kernel did not stop for it.
    """
    if result.stopped_by is None or result.values:
        return
    status = STOP_STATUS.get(result.stopped_by, PartStatus.FAILED)
    stop = stop_description(run, result)
    prerequisite_failed(f"{stop}, so the grader could not reach {what}", status)


def stop_description(run: NotebookRun, result: ProbeResult) -> str:
    """'the kernel died during cell 4 (`os._exit(1)`); later cells were not run'."""
    kind = result.stopped_by
    if kind == ObservationKind.KERNEL_DIED:
        cell = next((c for c in run.cells if c.error_name == "KernelDied"), None)
        where = f"during {describe_cell(cell)}" if cell else "while the grader called its code"
        return f"the kernel died {where}; later cells were not run"
    if kind == ObservationKind.TIMEOUT:
        cell = next((c for c in reversed(run.cells) if c.status == "timeout"), None)
        # A probe that never started was cut off with the notebook; one that did ran
        # the notebook's code past the limit itself (its error says so).
        if cell is None or not (result.error or "").startswith("not run"):
            return f"the notebook's code ran past its time limit ({result.error})"
        return f"the notebook ran past its time limit at {describe_cell(cell)} and was stopped"
    if kind == ObservationKind.INTERFERED:
        return interference(run)
    return malformed(run.source)


def failed_cells(run: NotebookRun) -> list[FailedCell]:
    """The run's code cells that raised or timed out, for the report's "cells that failed"."""
    return [
        FailedCell(
            source=run.source.path.name,
            cell=c.index + 1,
            first_line=c.first_line,
            error=_error_line(c.error_name or c.status, c.error_value or ""),
        )
        for c in run.cells
        if c.status in ("error", "timeout")
    ]


def _error_line(name: str, value: str) -> str:
    """'NameError: name 'x' is not defined': the first line, capped."""
    first = value.strip().partition("\n")[0]
    return f"{name}: {first}"[:300] if first else name


def sandbox_config(quick: bool, isolation: Isolation = "bwrap") -> SandboxConfig:
    """The engine settings for a grading run: time budgets scaled to this machine
    (dlgrade.engine.budgets); quick mode trains on data slices."""
    limits = budgets(quick)
    return SandboxConfig(
        quick=quick,
        cell_timeout_s=limits.cell_s,
        notebook_timeout_s=limits.notebook_s,
        isolation=isolation,
    )
