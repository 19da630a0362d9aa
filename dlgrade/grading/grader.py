"""One grading run's state, as a pytest plugin object: the options, the manifest, the
results of the checks, and the `GradeRecord` they make (the JSON file, the terminal's
points table). `grader_for(config)` finds it; `item_part` / `item_details` what a
collected check grades and the details it reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from dlgrade import progress
from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.grading.outcomes import missing_check, outcome, part_result
from dlgrade.grading.selection import (
    DEFAULT_ASSIGNMENT,
    choose_assignment,
    marked_part,
    problem_names,
)
from dlgrade.records import CheckResult, FailedCell, GradeRecord, Observation, PartStatus

NO_SUBMISSION = "no --submission given"
RESULT_PROPERTY = "dlgrade-result"
PART_KEY = pytest.StashKey[Any]()  # the manifest Part an item grades
DETAILS_KEY = pytest.StashKey[dict]()
GRADER_KEY = pytest.StashKey["Grader"]()


def grader_for(config: pytest.Config) -> Grader:
    """The run's `Grader` (submission, assignment, results so far)."""
    return config.stash[GRADER_KEY]


def item_part(item: pytest.Item) -> Any:
    """The manifest `Part` a collected check grades."""
    return item.stash[PART_KEY]


def item_details(item: pytest.Item) -> dict:
    """The dict that becomes the check's `CheckResult.details` (JSON values only)."""
    return item.stash.setdefault(DETAILS_KEY, {})


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
        manifest = self.config.getoption("manifest")
        if manifest:  # a copy of a manifest, edited (`dlgrade regrade --manifest`)
            return self._load_manifest_file(Path(manifest))
        assignment_id, self.assignment_source = choose_assignment(
            self.config.getoption("assignment"), self.submission
        )
        try:
            return load_assignment(assignment_id)
        except (KeyError, FileNotFoundError, ValueError) as exc:
            raise pytest.UsageError(
                f"assignment {assignment_id!r} (from {self.assignment_source}): {exc}"
            ) from exc

    def _load_manifest_file(self, path: Path) -> Any:
        from reference.manifest import ManifestError, load_manifest

        self.assignment_source = f"--manifest {path}"
        try:
            return load_manifest(path)
        except (ManifestError, OSError, KeyError) as exc:
            named = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
            raise pytest.UsageError(f"--manifest: {named}") from exc

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
        missing = [missing_check(self.assignment.part(part_id)) for part_id in self.unchecked]
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
            item.stash[PART_KEY] = wanted[part_id]
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
            [part_result(p, PartStatus.TIMEOUT, 0.0, "", {}) for p in wanted.values()],
        )
        for part_id in self.unchecked:
            progress.note_result(missing_check(wanted[part_id]))
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
        part = item.stash.get(PART_KEY, None)
        if part is not None:
            result = outcome(part, call, item.stash.get(DETAILS_KEY, {}))
            if result is not None:
                report.user_properties.append((RESULT_PROPERTY, asdict(result)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect results; on an xdist controller they arrive with the workers' reports."""
        for name, value in report.user_properties:
            if name != RESULT_PROPERTY:
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
