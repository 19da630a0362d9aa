"""Run each notebook of a submission once per grading session, with every probe it needs.

A notebook may hold several problems; it runs once with the union of their
probes. Checks ask for a problem and get its `ProblemRun`: the engine's
`NotebookRun`, or the one reason there is none (no notebook, unreadable file),
which every check of that problem then reports as its skip or failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dlgrade.engine import NotebookRun, Probe, SandboxConfig, SourceFile, Submission, run_notebook
from dlgrade.records import Observation

# Reference modules (manifest `problem`) whose checks read a notebook, by engine problem id.
NOTEBOOK_PROBLEMS = {"relu_fit": "p3", "fashion_mlp": "p4", "numpy_backprop": "p5"}


@dataclass(frozen=True)
class ProblemRun:
    problem: str
    run: NotebookRun | None
    reason: str = ""  # why there is no run

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
    ) -> None:
        self.submission = submission
        self.config = config
        self.probes = probes
        self.observe = observe
        self._runs: dict[Path, NotebookRun] = {}

    def get(self, problem: str) -> ProblemRun:
        sources = [s for s in self.submission.for_problem(problem) if s.status == "ok"]
        if not sources:
            return ProblemRun(problem, None, self._missing_reason(problem))
        source = sources[0]
        if source.path not in self._runs:
            self._runs[source.path] = self._execute(source)
        return ProblemRun(problem, self._runs[source.path])

    def _execute(self, source: SourceFile) -> NotebookRun:
        probes = [p for pid in source.problem_ids if pid in self.probes for p in self.probes[pid]()]
        run = run_notebook(source, probes, self.config, workdir_from=self.submission.path)
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
    """The engine settings for a grading run (quick mode trains on data slices)."""
    return SandboxConfig(quick=quick)
