"""One in-notebook check: the real checks, run by pytest in this process, on the live kernel.

The command line grades with `pytest checks --submission PATH`; here the same
suite runs in-process with `--visible-only`, and `LivePlugin` (1) hands the
checks `LiveRuns` in place of the sandbox's runs and (2) keeps only the parts
asked for, auto-graded ones, and (for `check_all`) those judged from the
notebook. The verdicts are the checks' own, from `Grader.record()`.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from checks.notebook_runs import NOTEBOOK_PROBLEMS, RUNS_OVERRIDE
from checks.probes import PROBES_BY_PROBLEM, WATCHES_BY_PROBLEM
from dlgrade.engine.tagging import content_tags, problems_for
from dlgrade.grading.grader import grader_for, item_part
from dlgrade.grading.runner import default_checks_dir
from dlgrade.grading.selection import choose_assignment
from dlgrade.records import GradeRecord
from dlgrade.student.live import LiveRuns, new_recorder
from dlgrade.student.recorder import Recorder, attach
from dlgrade.student.shell import ipython as _ipython

LOG_TAIL_CHARS = 4000


@dataclass(frozen=True)
class LiveCheck:
    """What one `check`/`check_all` call found."""

    record: GradeRecord | None  # None: the checks could not run (see `log`)
    notes: tuple[str, ...] = ()  # for the student: what was not checked here, and why
    hints: dict[str, str] = field(default_factory=dict)  # part -> advice for a failing part
    log: str = ""  # pytest's output, shown when something broke
    exit_code: int = 0


@dataclass(frozen=True)
class Target:
    """Where the check looks: the kernel, its notebook file, the folder, the edition."""

    namespace: dict
    notebook: Path
    folder: Path
    assignment: str
    cell_index: int = 0
    recorder: Recorder | None = None  # the kernel's value history, when in IPython


class LivePlugin:
    """pytest plugin: live runs for the `notebooks` fixture, and the parts to judge."""

    def __init__(self, runs: LiveRuns, parts: set[str] | None, notebook_only: bool) -> None:
        self.runs = runs
        self.parts = parts
        self.notebook_only = notebook_only
        self.record: GradeRecord | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RUNS_OVERRIDE] = self.runs

    @pytest.hookimpl(trylast=True)  # after the grading plugin attached each check's part
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list) -> None:
        kept, dropped = [], []
        for item in items:
            (kept if self._wanted(item) else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def _wanted(self, item: pytest.Item) -> bool:
        try:
            part = item_part(item)
        except KeyError:  # not a graded check
            return False
        if part.grading != "auto":  # a TA grades it; nothing to check here
            return False
        if self.parts is not None and part.id not in self.parts:
            return False
        return not self.notebook_only or "notebooks" in getattr(item, "fixturenames", ())

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        grader = grader_for(session.config)
        if grader._grading():
            self.record = grader.record()


def run_live(
    target: Target, parts: set[str] | None, problems: tuple[str, ...], notebook_only: bool
) -> LiveCheck:
    """Run the checks for `parts` (None: all visible auto parts of `problems`) on the kernel."""
    checks = default_checks_dir()
    runs = LiveRuns(
        target.namespace,
        target.notebook,
        PROBES_BY_PROBLEM,
        WATCHES_BY_PROBLEM,
        target.cell_index,
        target.recorder,
    )
    plugin = LivePlugin(runs, parts, notebook_only)
    args = [
        str(checks),
        "--submission", str(target.folder),
        "--assignment", target.assignment,
        "--visible-only",
        "--rootdir", str(checks.parent),
        "-p", "dlgrade.grading.plugin",
        "-p", "no:cacheprovider",
        "-p", "no:faulthandler",  # the kernel's stderr is not a real file
        "--capture=sys",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "-q",
    ]  # fmt: skip
    if problems:
        args += ["--problems", ",".join(problems)]
    output = io.StringIO()
    saved_path = list(
        sys.path
    )  # pytest puts the checks' folder first; the student's imports must not see it
    try:
        with redirect_stdout(output), redirect_stderr(output):
            code = int(pytest.main(args, plugins=[plugin]))
    finally:
        sys.path[:] = saved_path
    log = output.getvalue()[-LOG_TAIL_CHARS:]
    return LiveCheck(plugin.record, tuple(runs.notes), log=log, exit_code=code)


def target_here(namespace: dict | None, assignment: str | None) -> Target:
    """The live kernel (IPython's user namespace, else __main__) and what to grade it as."""
    shell = _ipython()
    recorder = None
    if namespace is None:
        namespace = shell.user_ns if shell is not None else vars(sys.modules["__main__"])
        recorder = attach(new_recorder)  # the kernel's own history, when in IPython
    folder = Path.cwd()
    edition, _ = choose_assignment(assignment, folder)
    count = int(getattr(shell, "execution_count", 1) or 1)
    notebook = notebook_path(namespace, folder)
    return Target(namespace, notebook, folder, edition, max(count - 1, 0), recorder)


def notebook_path(namespace: dict, folder: Path) -> Path:
    """This notebook's file when the front end says (Jupyter, VS Code), else a stand-in name."""
    import os

    for candidate in (os.environ.get("JPY_SESSION_NAME"), namespace.get("__vsc_ipynb_file__")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            return Path(candidate)
    return folder / "this notebook"


def kernel_problems(namespace: dict) -> tuple[str, ...]:
    """Manifest problems (relu_fit, ...) whose code this kernel has run, by content."""
    history = namespace.get("In")
    code = "\n".join(c for c in history if isinstance(c, str)) if isinstance(history, list) else ""
    engine_ids = set(problems_for(content_tags(code)))
    return tuple(sorted(p for p, e in NOTEBOOK_PROBLEMS.items() if e in engine_ids))
