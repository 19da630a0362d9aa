"""pytest plugin: grade one submission with `pytest checks --submission PATH`.

Checks are plain pytest tests marked with the manifest part they grade:

    @pytest.mark.part("5-q3")                         # same id in every edition
    @pytest.mark.part(fall2023="2a", spring2023="1a")  # one problem, two editions

Points, titles, grading mode and visibility come from the manifest only.
This module is what pytest loads (`-p dlgrade.grading.plugin`, the root
conftest): the command-line options, and a `Grader` (`grading.grader`)
registered per run. Collection keeps the checks of the selected assignment
(`grading.selection`: the edition, --problems, --visible-only); each check's
outcome becomes a `CheckResult` (`grading.outcomes`) attached to its report as
a user property (so it survives pytest-xdist), and the `Grader` turns them into
one `GradeRecord`: a points table in the terminal summary and, with
--results-json, a JSON file.

Whose doing an outcome is decides its status (see `outcomes.outcome`): only the
checks' own verdict exceptions (`checks.scoring`) are the student's; any
other exception, a plain `assert` in a check included, is a harness error.
"""

from __future__ import annotations

import pytest

from dlgrade.engine.isolation import MODES
from dlgrade.grading.grader import GRADER_KEY, Grader
from dlgrade.grading.selection import DEFAULT_ASSIGNMENT


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade", "grading a submission")
    group.addoption("--submission", metavar="PATH", help="submission folder to grade")
    group.addoption(
        "--assignment",
        default=None,
        help="assignment edition (fall2023 or spring2023); default: `assignment` in the "
        f"submission's submission.toml, else in its answers.toml, else {DEFAULT_ASSIGNMENT}",
    )
    group.addoption(
        "--manifest",
        metavar="PATH",
        default=None,
        help="grade against this manifest file (an edited copy of an edition's) instead",
    )
    group.addoption(
        "--quick",
        action="store_true",
        help="run student training on small data slices (self-check mode)",
    )
    group.addoption(
        "--visible-only", action="store_true", help="grade only parts visible to students"
    )
    group.addoption(
        "--retrain",
        action="store_true",
        help="problem 5: train the student's network again from the grader's start, even "
        "when the notebook's own training ran to the end",
    )
    group.addoption(
        "--problems",
        metavar="LIST",
        default=None,
        help="grade only these problems, comma-separated: p4,p5 or 4,5 or relu_fit",
    )
    group.addoption(
        "--isolation",
        choices=MODES,
        default="bwrap",
        help="how the notebooks are isolated: bwrap (default; refused where bubblewrap cannot "
        "run), user (as root without namespaces: an unprivileged uid per notebook), none",
    )
    group.addoption(
        "--results-json", metavar="PATH", default=None, help="write the GradeRecord JSON here"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "part(id=None, **by_assignment): the manifest part a check grades, e.g. "
        'part("5-q3") or part(fall2023="2a", spring2023="1a")',
    )
    grader = Grader(config)
    config.stash[GRADER_KEY] = grader
    config.pluginmanager.register(grader, "dlgrade-grader")
