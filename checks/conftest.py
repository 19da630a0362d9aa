"""Fixtures every check may ask for.

Session-scoped facts about the run come from the grading plugin's `Grader`
(one place for the submission and the assignment); the answers file is read
once per run. Notebook-based checks add their own session fixtures here
(e.g. a `submission` from `dlgrade.engine.discover(submission_path)`, a
notebook run per problem) and end with one reason and its status when a
prerequisite is missing through the student's doing:
`checks.scoring.prerequisite_failed(problem.reason, problem.status)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checks.answers.errors import AnswersLink
from checks.answers.loading import AnswersSource
from checks.notebook_runs import NOTEBOOK_PROBLEMS, RUNS_OVERRIDE, NotebookRuns, sandbox_config
from checks.probes import WATCHES_BY_PROBLEM, probes_by_problem
from checks.scoring import CheckRecord
from dlgrade.engine import Submission, discover
from dlgrade.engine.resubmissions import find_answers
from dlgrade.grading.grader import NO_SUBMISSION, Grader, grader_for, item_details, item_part


@pytest.fixture(scope="session")
def grader(pytestconfig: pytest.Config) -> Grader:
    """The run: submission, assignment, quick mode, and `observe(...)` for run-wide notes."""
    return grader_for(pytestconfig)


@pytest.fixture(scope="session")
def submission_path(grader: Grader) -> Path:
    if grader.submission is None:
        pytest.skip(NO_SUBMISSION)
    return grader.submission


@pytest.fixture(scope="session")
def assignment(grader: Grader) -> Any:
    """The manifest (`reference.assignments.Assignment`) of the edition graded."""
    return grader.assignment


@pytest.fixture(scope="session")
def quick(grader: Grader) -> bool:
    return grader.quick


@pytest.fixture(scope="session")
def answers(grader: Grader, submission_path: Path, assignment: Any) -> AnswersSource:
    """answers.toml, parsed once; a broken file is noted once for the whole grade.

    Checks call `answers.section(part.id)`, which raises `AnswerError` (0
    points, with the reason) when the file is missing, broken or lacks the
    section.
    """
    found = find_answers(submission_path)
    if found.note:  # an LMS renamed resubmissions (answers-1.toml): say which one was graded
        grader.observe("answers.toml", "source-chosen", found.note)
    source = AnswersSource.load(found.path, assignment.id)
    if isinstance(source.error, AnswersLink):
        grader.observe("answers.toml", "link-refused", source.error.detail)
    elif source.error is not None:
        grader.observe("answers.toml", "answers-invalid", str(source.error))
    if source.answers is not None:
        for warning in source.answers.warnings:
            grader.observe("answers.toml", "answers-warning", warning)
    return source


@pytest.fixture
def part(request: pytest.FixtureRequest) -> Any:
    """The manifest `Part` the current check grades (id, title, points, grading, visibility)."""
    return item_part(request.node)


@pytest.fixture
def record(request: pytest.FixtureRequest) -> CheckRecord:
    """Attach JSON details (extracted text, measured values) to the current check's result."""
    return CheckRecord(item_details(request.node))


@pytest.fixture(scope="session")
def submission(grader: Grader, submission_path: Path) -> Submission:
    """The submission's notebooks mapped to problems by content (see dlgrade.engine.discover);
    every link in it is named on the record, never followed."""
    found = discover(submission_path)
    for link in found.links:
        grader.observe(link.name, "link-refused", link.message)
    return found


@pytest.fixture(scope="session")
def notebooks(grader: Grader, request: pytest.FixtureRequest) -> Iterator[NotebookRuns]:
    """Each notebook runs once, in the sandbox, with the probes of every problem it holds
    (unless a front end supplies the runs: see checks.notebook_runs.RUNS_OVERRIDE)."""
    runs = request.config.stash.get(RUNS_OVERRIDE, None)
    if runs is None:
        runs = NotebookRuns(
            request.getfixturevalue("submission"),
            sandbox_config(grader.quick, grader.isolation_mode),
            probes_by_problem(retrain=grader.retrain),
            lambda o: grader.observe(o.source, o.kind, o.message),
            WATCHES_BY_PROBLEM,
        )
    yield runs
    grader.note_runs(runs.runs, runs.failed_cells())


@pytest.fixture(autouse=True)
def _graded_source(request: pytest.FixtureRequest) -> None:
    """Every notebook-based part names the file graded for its problem (and why, if
    another file also held it) in its details: `source`, `source_note`."""
    if "notebooks" not in request.fixturenames:  # a part read from answers.toml only
        return
    try:
        problem = NOTEBOOK_PROBLEMS.get(item_part(request.node).problem)
    except KeyError:  # not a graded check
        return
    if problem is None:
        return
    runs: NotebookRuns = request.getfixturevalue("notebooks")
    choice = runs.choice(problem)
    if choice is None:
        return
    details = item_details(request.node)
    details["source"] = choice.chosen.path.name
    if choice.note:
        details["source_note"] = choice.note
