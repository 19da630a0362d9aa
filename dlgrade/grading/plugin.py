"""pytest plugin: grade one submission with `pytest checks --submission PATH`.

Checks are plain pytest tests marked with the manifest part they grade:

    @pytest.mark.part("5-q3")                         # same id in every edition
    @pytest.mark.part(fall2023="2a", spring2023="1a")  # one problem, two editions

Points, titles, grading mode and visibility come from the manifest only.
Collection keeps the checks of the selected assignment (and --problems,
--visible-only); each check's outcome becomes a `CheckResult` attached to its
report as a user property (so it survives pytest-xdist), and `Grader` turns
them into one `GradeRecord`: a points table in the terminal summary and, with
--results-json, a JSON file.

Whose doing an outcome is decides its status (see `outcome`): only the
checks' own verdict exceptions (`checks.scoring`) are the student's; any
other exception, a plain `assert` in a check included, is a harness error.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from dlgrade import progress
from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.engine.isolation import MODES
from dlgrade.records import (
    PLEASE_REPORT,
    CheckResult,
    FailedCell,
    GradeRecord,
    Observation,
    PartStatus,
)

DEFAULT_ASSIGNMENT = "fall2023"
NO_SUBMISSION = "no --submission given"
_PROPERTY = "dlgrade-result"
_PART_KEY = pytest.StashKey[Any]()  # the manifest Part an item grades
_DETAILS_KEY = pytest.StashKey[dict]()
_GRADER_KEY = pytest.StashKey["Grader"]()


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
    config.stash[_GRADER_KEY] = grader
    config.pluginmanager.register(grader, "dlgrade-grader")


def grader_for(config: pytest.Config) -> Grader:
    """The run's `Grader` (submission, assignment, results so far)."""
    return config.stash[_GRADER_KEY]


def item_part(item: pytest.Item) -> Any:
    """The manifest `Part` a collected check grades."""
    return item.stash[_PART_KEY]


def item_details(item: pytest.Item) -> dict:
    """The dict that becomes the check's `CheckResult.details` (JSON values only)."""
    return item.stash.setdefault(_DETAILS_KEY, {})


class Grader:
    """One grading run: options, the manifest (loaded on first use) and the results.

    Registered as a plugin object per `pytest.Config`, so its state belongs to
    the run, not to the module.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        option = config.getoption("submission")
        self.submission = Path(option).resolve() if option else None
        self.quick = bool(config.getoption("quick"))
        self.retrain = bool(config.getoption("retrain"))
        self.isolation_mode = str(config.getoption("isolation"))
        self.results: dict[str, CheckResult] = {}
        self.unchecked: list[str] = []
        self.observations: list[Observation] = []
        self.started = time.monotonic()
        self._assignment: Any = None
        self.assignment_source = ""
        self.isolation = ""
        self.student_compute_s = 0.0
        self.failed_cells: list[FailedCell] = []

    # ------------------------------------------------------------ what is graded

    @property
    def assignment(self) -> Any:
        """The manifest (`reference.assignments.Assignment`) of the edition graded."""
        if self._assignment is None:
            self._assignment = self._load_assignment()
        return self._assignment

    def _load_assignment(self) -> Any:
        from reference.assignments import load_assignment  # only grading runs need manifests

        if self.submission is not None and not self.submission.is_dir():
            raise pytest.UsageError(f"--submission {self.submission}: no such folder")
        assignment_id, self.assignment_source = choose_assignment(
            self.config.getoption("assignment"), self.submission
        )
        try:
            return load_assignment(assignment_id)
        except (KeyError, FileNotFoundError, ValueError) as exc:
            raise pytest.UsageError(
                f"assignment {assignment_id!r} (from {self.assignment_source}): {exc}"
            ) from exc

    @property
    def student(self) -> str:
        return self.submission.name if self.submission is not None else ""

    def observe(self, source: str, kind: str, message: str) -> None:
        """Note something every reader of the grade should see once (e.g. a broken file)."""
        observation = Observation(source, kind, message)
        if observation not in self.observations:
            self.observations.append(observation)

    def note_runs(self, runs: list[Any], failed_cells: Sequence[FailedCell] = ()) -> None:
        """Fold the sandbox's notebook runs (dlgrade.engine.NotebookRun) into the record,
        with the code cells that raised or timed out in them."""
        self.student_compute_s += sum(run.duration_s for run in runs)
        modes = sorted({run.isolation for run in runs if run.isolation})
        self.isolation = "; ".join(modes) or self.isolation
        self.failed_cells.extend(c for c in failed_cells if c not in self.failed_cells)

    def record(self) -> GradeRecord:
        order = [part.id for part in self.assignment.parts]
        missing = [_missing_check(self.assignment.part(part_id)) for part_id in self.unchecked]
        results = sorted([*self.results.values(), *missing], key=lambda r: order.index(r.part))
        return GradeRecord(
            student=self.student,
            assignment=self.assignment.id,
            results=results,
            duration_s=round(time.monotonic() - self.started, 3),
            observations=list(self.observations),
            quick=self.quick,
            isolation=self.isolation,
            student_compute_s=round(self.student_compute_s, 3),
            failed_cells=list(self.failed_cells),
        )

    # ------------------------------------------------------------ collection

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        checks = [item for item in items if item.get_closest_marker("part") is not None]
        if not checks:
            return
        wanted = self._wanted_parts()
        claimed: dict[str, list[str]] = {}
        deselected = []
        for item in checks:
            part_id = marked_part(item, self.assignment.id)
            if part_id is None or part_id not in wanted:
                deselected.append(item)
                continue
            claimed.setdefault(part_id, []).append(item.nodeid)
            item.stash[_PART_KEY] = wanted[part_id]
            if self.submission is None:
                item.add_marker(pytest.mark.skip(reason=NO_SUBMISSION))
        twice = {part: ids for part, ids in claimed.items() if len(ids) > 1}
        if twice:
            lines = "; ".join(f"{part}: {', '.join(ids)}" for part, ids in sorted(twice.items()))
            raise pytest.UsageError(f"more than one check claims the same part ({lines})")
        self.unchecked = [part_id for part_id in wanted if part_id not in claimed]
        # For a launcher that stops us at the student's limit: what was to be judged.
        progress.note_parts(
            self.assignment.id,
            [_result(p, PartStatus.TIMEOUT, 0.0, "", {}) for p in wanted.values()],
        )
        for part_id in self.unchecked:
            progress.note_result(_missing_check(wanted[part_id]))
        if deselected:
            self.config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if item not in deselected]

    def _wanted_parts(self) -> dict[str, Any]:
        """Manifest parts left after --problems and --visible-only, in manifest order."""
        problems = self.config.getoption("problems")
        tokens = {p.strip().lower() for p in problems.split(",") if p.strip()} if problems else None
        visible_only = self.config.getoption("visible_only")
        return {
            part.id: part
            for part in self.assignment.parts
            if (tokens is None or problem_names(part) & tokens)
            and not (visible_only and part.visibility != "visible")
        }

    # ------------------------------------------------------------ outcomes

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        report = yield
        part = item.stash.get(_PART_KEY, None)
        if part is not None:
            result = outcome(part, call, item.stash.get(_DETAILS_KEY, {}))
            if result is not None:
                report.user_properties.append((_PROPERTY, asdict(result)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect results; on an xdist controller they arrive with the workers' reports."""
        for name, value in report.user_properties:
            if name != _PROPERTY:
                continue
            result = CheckResult(**value)
            previous = self.results.get(result.part)
            # The first verdict stands, except that a teardown error spoils a pass.
            spoiled = previous is not None and (previous.status, result.status) == (
                PartStatus.PASSED,
                PartStatus.ERROR,
            )
            if previous is None or spoiled:
                self.results[result.part] = result
                progress.note_result(result)  # kept if the student's time runs out later

    # ------------------------------------------------------------ end of run

    def _grading(self) -> bool:
        """Whether this run graded anything (checks collected here, or results from workers)."""
        return self._assignment is not None or bool(self.results)

    def pytest_sessionfinish(self) -> None:
        target = self.config.getoption("results_json")
        if target and self._grading() and not hasattr(self.config, "workerinput"):
            write_json_atomically(Path(target), self.record().to_dict())

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self._grading():
            return
        record = self.record()
        write = terminalreporter.write_line
        terminalreporter.section(
            f"dlgrade: {record.student or 'no submission'} ({record.assignment})"
        )
        if self.assignment_source == "default":
            write(f"assignment not stated in the submission: graded as {DEFAULT_ASSIGNMENT}")
        for observation in record.observations:
            write(f"[{observation.source}] {observation.kind}: {observation.message}")
        for line in points_table(record):
            write(line)


def choose_assignment(option: str | None, submission: Path | None) -> tuple[str, str]:
    """The edition to grade and where that choice came from."""
    if option:
        return option, "--assignment"
    if submission is not None:
        from dlgrade.engine.resubmissions import find_answers  # answers-1.toml states it too

        answers = find_answers(submission).path
        for path in (submission / "submission.toml", answers):
            stated = _stated_assignment(path) if path is not None else None
            if stated:
                return stated, path.name
    return DEFAULT_ASSIGNMENT, "default"


def _stated_assignment(path: Path) -> str | None:
    """`assignment = "..."` at the top of a TOML file; None when absent or unreadable.

    An unparseable answers.toml is no error here: the answers checks report it
    (each with 0 points); for choosing the edition it only means "not stated".
    """
    from dlgrade.engine.paths import read_regular  # the engine loads only when grading

    if not path.is_file():
        return None
    try:
        # Never through a link: the answers checks name it; here it means "not stated".
        text = read_regular(path).decode("utf-8", errors="replace")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    stated = data.get("assignment")
    return stated if isinstance(stated, str) else None


def marked_part(item: pytest.Item, assignment_id: str) -> str | None:
    """The part id an item's `part` marker names for this edition (None: not in it)."""
    marker = item.get_closest_marker("part")
    if marker is None:
        return None
    if len(marker.args) > 1 or (marker.args and marker.kwargs):
        raise pytest.UsageError(f"{item.nodeid}: use part('id') or part(edition='id', ...)")
    if marker.args:
        return str(marker.args[0])
    return marker.kwargs.get(assignment_id)


def problem_names(part: Any) -> set[str]:
    """What --problems may call a part's problem: p3 or 3 (the number in the edition's
    part id, as students see it) or the reference module (relu_fit)."""
    number = re.match(r"\d+", part.id)
    names = {part.problem.lower()}
    if number:
        names |= {number.group(), f"p{number.group()}"}
    return names


def outcome(part: Any, call: pytest.CallInfo[None], details: dict) -> CheckResult | None:
    """The CheckResult of one test phase; None when the phase decides nothing (setup passed).

    The student's: returning (passed), `PartialCredit` (partial), `CheckFailed`
    and `PrerequisiteFailed` (failed, malformed, timeout or interfered, as they
    carry). The grader's choice: `pytest.skip` (skipped). Everything else,
    the checks' own `assert` statements included, is a harness error: the
    traceback is in pytest's output (the grading log), the message says so.
    """
    # The checks' verdict exceptions; importing them here keeps the plugin loadable alone.
    from checks.scoring import CheckFailed, HandedToTA, PartialCredit, PrerequisiteFailed

    excinfo = call.excinfo
    if excinfo is None:
        if call.when != "call":
            return None
        return _result(part, PartStatus.PASSED, part.points, "", details)
    error = excinfo.value
    if isinstance(error, pytest.skip.Exception):
        return _result(part, PartStatus.SKIPPED, 0.0, error.msg or "skipped", details)
    if call.when == "teardown":
        return _result(part, PartStatus.ERROR, 0.0, harness_error(error, "teardown"), details)
    if isinstance(error, HandedToTA):  # recognised but not runnable here: a TA grades it
        return _result(part, PartStatus.MANUAL, 0.0, str(error), {**details, **error.details})
    if isinstance(error, PartialCredit):
        points = error.fraction * part.points
        return _result(part, PartStatus.PARTIAL, points, str(error), details)
    if isinstance(error, CheckFailed):
        prerequisite = isinstance(error, PrerequisiteFailed)
        return _result(part, error.status, 0.0, str(error), details, prerequisite)
    return _result(part, PartStatus.ERROR, 0.0, harness_error(error), details)


def harness_error(error: BaseException, phase: str = "") -> str:
    """One line for a part the grader itself failed on."""
    where = f" in {phase}" if phase else ""
    text = str(error).strip().partition("\n")[0][:300]
    described = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"harness error{where} ({described}); {PLEASE_REPORT} (traceback in the grading log)"


def _result(
    part: Any,
    status: PartStatus,
    points: float,
    message: str,
    details: dict,
    prerequisite: bool = False,
) -> CheckResult:
    # The TA awards manual parts; the check only gathers what they need. A missing
    # prerequisite (no notebook, tampering) leaves nothing to review, so it stands.
    verdict = status in (PartStatus.PASSED, PartStatus.PARTIAL, PartStatus.FAILED)
    if part.grading == "manual" and verdict and not prerequisite:
        status, points = PartStatus.MANUAL, 0.0
        message = message or "awaiting TA review"
    return CheckResult(
        part=part.id,
        name=part.title,
        points=round(float(points), 4),
        max_points=float(part.points),
        status=status,
        message=message,
        visibility=part.visibility,
        details=dict(details),
    )


def _missing_check(part: Any) -> CheckResult:
    return CheckResult(
        part=part.id,
        name=part.title,
        points=0.0,
        max_points=float(part.points),
        status=PartStatus.ERROR,
        message=f"no check in checks/ grades this part; {PLEASE_REPORT}",
        visibility=part.visibility,
    )


def write_json_atomically(path: Path, data: dict) -> None:
    """Readers (the batch runner) never see half a file: see dlgrade.data.atomic."""
    write_bytes_atomic(path, json.dumps(data, indent=2).encode("utf-8"), fsync=False)


def points_table(record: GradeRecord) -> list[str]:
    """One line per part (part, points/max, status, first line of the message), then the total."""
    rows = [
        (
            r.part,
            f"{r.points:g}/{r.max_points:g}",
            r.status,
            (r.message.splitlines() or [""])[0][:100],
        )
        for r in record.results
    ]
    rows.append(("total", f"{record.total:g}/{record.max_total:g}", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        f"{part:<{widths[0]}}  {points:>{widths[1]}}  {status:<{widths[2]}}  {message}".rstrip()
        for part, points, status, message in rows
    ]
