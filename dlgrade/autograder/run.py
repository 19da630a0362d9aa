"""Inside Gradescope's container: grade /autograder/submission into /autograder/results/results.json.

The same grading as `dlgrade grade` for one student (one `pytest checks`
process in its own process group, the notebooks in the sandbox), then the
record in Gradescope's format. Whatever happens a results.json is written, so
the student never sees Gradescope's bare "autograder failed"; a grading
failure says it is the grader's fault, not theirs. stdout goes to the
instructors' view only (Gradescope's /autograder/results/stdout).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from dlgrade.autograder.config import CONFIG_FILE, AutograderConfig
from dlgrade.grading.outputs import write_json
from dlgrade.grading.plugin import points_table
from dlgrade.grading.runner import GradeOptions, GradingJob, default_checks_dir
from dlgrade.lms.gradescope import results_json, results_problems
from dlgrade.records import GradeRecord, Identity, Observation, ObservationKind

POLL_S = 1.0


def run_gradescope(root: Path, config: AutograderConfig | None = None) -> Path:
    """Grade `root`/submission; returns the results.json written under `root`/results."""
    config = config or AutograderConfig.load(root / "source" / CONFIG_FILE)
    submission, results = root / "submission", root / "results" / "results.json"
    people = submitters(root / "submission_metadata.json")
    started = time.monotonic()
    if not submission.is_dir() or not any(submission.iterdir()):
        empty = Observation("submission", ObservationKind.NO_FILES, "no files were submitted")
        record = GradeRecord("submission", config.assignment, [], observations=[empty])
    else:
        record = grade(submission, config)
    record = replace(record, identities=people, duration_s=round(time.monotonic() - started, 3))
    data = results_json(record)
    problems = results_problems(data)
    if problems:  # our bug, never the student's: keep the results, tell the staff
        print("results.json does not follow Gradescope's specification:", *problems, sep="\n  ")
    write_json(results, data)
    print("\n".join(points_table(record)))
    print(f"isolation: {record.isolation or 'none recorded'}; results: {results}")
    return results


def grade(submission: Path, config: AutograderConfig) -> GradeRecord:
    options = GradeOptions(
        checks_dir=default_checks_dir(),
        assignment=config.assignment,
        quick=config.quick,
        problems=config.problems,
        timeout_s=config.timeout_s,
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
