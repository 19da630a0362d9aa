"""Inside Gradescope's container: grade /autograder/submission into /autograder/results/results.json.

The same grading as `dlgrade grade` for one student (one `pytest checks`
process in its own process group, the notebooks in the sandbox), then the
record in Gradescope's format. Whatever happens a results.json is written, so
the student never sees Gradescope's bare "autograder failed"; a grading
failure says it is the grader's fault, not theirs. If it cannot be written, the
command exits non-zero and leaves no file it did not write. stdout goes to the
instructors' view only (Gradescope's /autograder/results/stdout).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade.autograder.config import CONFIG_FILE, AutograderConfig
from dlgrade.engine.errors import SandboxUnavailable
from dlgrade.grading.grader import points_table
from dlgrade.grading.lockdown import LockdownError, prepare
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import write_json
from dlgrade.grading.runner import GradingJob, default_checks_dir
from dlgrade.lms.gradescope import results_json, results_problems
from dlgrade.records import GradeRecord, Identity, Observation, ObservationKind

POLL_S = 1.0


@dataclass(frozen=True)
class Outcome:
    results: Path
    exit_code: int  # 0; 1 when the submission could not be graded safely (results say why)


class ResultsNotWritten(RuntimeError):
    """results.json could not be written; the message says whether a stale file remains."""


def run_gradescope(root: Path, config: AutograderConfig | None = None) -> Outcome:
    """Grade `root`/submission into `root`/results/results.json.

    Before any student code runs, the isolation mode is checked and, in user mode, the
    harness, its configuration and the hand-in become root-only; after grading, every
    process a kernel left is killed, and only then is results.json written.
    """
    config = config or AutograderConfig.load(root / "source" / CONFIG_FILE)
    submission, results = root / "submission", root / "results" / "results.json"
    people = submitters(root / "submission_metadata.json")
    started = time.monotonic()
    exit_code = 0
    try:
        secured = prepare(
            config.isolation,
            protect=[root / "source", submission, root / "submission_metadata.json"],
            checks_dir=default_checks_dir(),
        )
    except (SandboxUnavailable, LockdownError) as err:
        print(f"not graded: the notebooks cannot be isolated here: {err}")
        record = refused(config, f"the autograder could not isolate the notebooks: {err}")
        exit_code = 1
    else:
        if secured is not None:
            print(secured.summary())
        record = grade_submission(submission, config)
    record = replace(record, identities=people, duration_s=round(time.monotonic() - started, 3))
    data = results_json(record)
    problems = results_problems(data)
    if problems:  # our bug, never the student's: keep the results, tell the staff
        print("results.json does not follow Gradescope's specification:", *problems, sep="\n  ")
    write_results(results, data)
    print("\n".join(points_table(record)))
    print(f"isolation: {record.isolation or 'none recorded'}; results: {results}")
    return Outcome(results, exit_code)


def grade_submission(submission: Path, config: AutograderConfig) -> GradeRecord:
    if not submission.is_dir() or not any(submission.iterdir()):
        empty = Observation("submission", ObservationKind.NO_FILES, "no files were submitted")
        return GradeRecord("submission", config.assignment, [], observations=[empty])
    return grade(submission, config)


def refused(config: AutograderConfig, why: str) -> GradeRecord:
    """The record of a submission the autograder would not run: the grader's fault."""
    return GradeRecord(
        "submission",
        config.assignment,
        [],
        status="error",
        observations=[Observation("harness", ObservationKind.GRADING_ERROR, why)],
        quick=config.quick,
    )


def write_results(path: Path, data: dict) -> None:
    """Write results.json atomically; if that fails, leave no file the grader did not write."""
    try:
        write_json(path, data)
    except OSError as err:
        with contextlib.suppress(OSError):
            path.unlink()
        left = (
            "a results.json the grader did not write is still there"
            if path.exists()
            else ("no results.json is left")
        )
        raise ResultsNotWritten(f"cannot write {path}: {err}; {left}") from err


def grade(submission: Path, config: AutograderConfig) -> GradeRecord:
    options = GradeOptions(
        checks_dir=default_checks_dir(),
        assignment=config.assignment,
        quick=config.quick,
        problems=config.problems,
        timeout_s=config.timeout_s,
        isolation=config.isolation,
    )
    print(
        f"grading {submission} ({config.assignment}, problems: {','.join(config.problems) or 'all'})"
    )
    print(f"checks: {options.checks_dir}")
    with tempfile.TemporaryDirectory(prefix="dlgrade-autograder-") as work:
        job = GradingJob("submission", submission, Path(work), options)
        try:
            while not job.poll():
                time.sleep(POLL_S)
        finally:
            if job.process.poll() is None:
                job.kill()
        record = job.finish().record
        if record.status == "error":
            print(job.log_tail())
    return record


def submitters(path: Path) -> list[Identity]:
    """The users of /autograder/submission_metadata.json (names and emails; [] when absent)."""
    try:
        users = json.loads(path.read_text("utf-8")).get("users", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [
        Identity(
            id=str(u.get("sid") or ""),
            name=str(u.get("name") or ""),
            email=str(u.get("email") or ""),
            lms="gradescope",
        )
        for u in users
        if isinstance(u, dict)
    ]
