"""The `pytest checks` arguments that grade one submission (see docs/DESIGN.md, "Checks")."""

from __future__ import annotations

from pathlib import Path

from dlgrade.grading.options import GradeOptions


def pytest_args(
    options: GradeOptions, submission: Path, results_json: Path, junit: Path | None = None
) -> list[str]:
    """The `pytest` arguments that grade one submission (see docs/DESIGN.md, "Checks")."""
    args = [
        str(options.checks_dir),
        "--submission",
        str(submission),
        "--results-json",
        str(results_json),
        "-p",
        "no:cacheprovider",
        "-q",
        # The checks' messages come from the exceptions themselves (outcomes.py); formatting
        # each failure's traceback with its source costs a regrade ~0.3 s a student.
        "--tb=line",
    ]
    if options.assignment:
        args += ["--assignment", options.assignment]
    if options.quick:
        args.append("--quick")
    if options.retrain:
        args.append("--retrain")
    if options.visible_only:
        args.append("--visible-only")
    if options.problems:
        args += ["--problems", ",".join(options.problems)]
    args += ["--isolation", options.isolation]
    if options.evidence != "off":
        evidence = results_json.parent / "evidence"
        args += ["-p", "dlgrade.evidence.plugin"]
        args += ["--evidence-dir", str(evidence), "--evidence", options.evidence]
    if options.manifest:
        args += ["--manifest", str(options.manifest)]
    if junit is not None:
        args += ["--junitxml", str(junit)]
    return args + list(options.extra_args)
