"""CI on assignment repositories: the job summary, --fail-under, and the action's check step.

The check runs against the stand-in checks (tests/batch_standin.py), which
speak the grading contract in seconds; ci/self-check.sh, the script the
composite action runs, is executed as GitHub would, with its inputs in the
environment and a job-summary file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.records import CheckResult, GradeRecord, Observation
from reports.markdown import job_summary

REPO = Path(__file__).resolve().parents[1]
# Stand-in with score 0.5: 4-arch 6/6, 4-curves 2/4, 5-q2 5/10 judged; 2c awaits a TA.
HALF_PERCENT = 65.0


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def test_summary_is_a_markdown_table_that_escapes_student_text():
    record = GradeRecord(
        "ada",
        "fall2023",
        [
            CheckResult("5-q2", "Q2", 3.0, 6.0, "partial", "loss | guess <script>x</script>\nmore"),
            CheckResult("2c", "Reflection", 0.0, 4.0, "manual", "awaiting TA review"),
            CheckResult("5-q4", "Q4", 0.0, 4.0, "skipped", "quick mode cannot judge this"),
        ],
        observations=[Observation("hw1p5.ipynb", "timeout", "cell 3 ran longer than 600s")],
        isolation="bubblewrap",
        quick=True,
    )
    text = job_summary(record, fail_under=60)
    assert "### dlgrade self-check: ada: 3 / 6 points (50 %)" in text  # manual, skipped left out
    assert "| part | points | status | message |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 5-q2"))
    assert row == "| 5-q2 | 3/6 | 🟡 partial | loss \\| guess &lt;script&gt;x&lt;/script&gt; |"
    assert "more" not in row  # first line only
    assert "quick mode" in text and "[hw1p5.ipynb] timeout" in text
    assert "**Result: fails**: 50 % is below the required 60 %." in text
    assert "1 part(s) are graded by a TA later" in text
    assert "**Result:** this job does not fail on points" in job_summary(record)


@pytest.mark.parametrize(
    ("score", "extra", "code"),
    [
        (0.5, [], 1),  # without --fail-under: any lost point fails, as before
        (0.5, ["--fail-under", "60"], 0),
        (0.5, ["--fail-under", "70"], 1),
        (0.5, ["--fail-under", "0"], 0),
        (1.0, ["--fail-under", "100"], 0),
    ],
)
def test_fail_under_decides_the_exit_status(tmp_path, checks, capsys, score, extra, code):
    folder = write_submission(tmp_path, "me", score=score)
    summary = tmp_path / "summary.md"
    argv = ["check", str(folder), "--checks", str(checks), "--summary", str(summary), *extra]
    assert main(argv) == code
    text = summary.read_text()
    assert "| 4-curves |" in text
    if score == 0.5:
        assert f"({HALF_PERCENT:g} %)" in text
    capsys.readouterr()


def test_checks_that_cannot_run_exit_two_whatever_the_threshold(tmp_path, checks, capsys):
    folder = write_submission(tmp_path, "me", exit=3)
    summary = tmp_path / "summary.md"
    argv = ["check", str(folder), "--checks", str(checks), "--summary", str(summary)]
    assert main([*argv, "--fail-under", "0"]) == 2
    assert "could not run" in summary.read_text()
    with pytest.raises(SystemExit) as usage:  # argparse: not a percentage
        main([*argv, "--fail-under", "101"])
    assert usage.value.code == 2
    assert "expected a percentage" in capsys.readouterr().err


def _action_step(tmp_path: Path, checks: Path, folder: Path, fail_under: str):
    """ci/self-check.sh with a `dlgrade` on PATH that is this checkout (with the stand-in)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "dlgrade"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dlgrade "$@" --checks "{checks}"\n')
    wrapper.chmod(0o755)
    summary = tmp_path / "step_summary.md"
    env = dict(
        os.environ,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        PYTHONPATH=str(REPO),
        GITHUB_STEP_SUMMARY=str(summary),
        RUNNER_TEMP=str(tmp_path / "runner"),
        DLGRADE_PATH=str(folder),
        DLGRADE_FAIL_UNDER=fail_under,
    )
    done = subprocess.run(
        [str(REPO / "ci" / "self-check.sh")], env=env, capture_output=True, text=True, timeout=300
    )
    return done, summary


@pytest.mark.parametrize(
    ("plan", "fail_under", "code", "warned"),
    [
        ({"score": 0.5}, "", 0, False),  # not asked: points lost, job passes
        ({"score": 0.5}, "90", 1, False),
        ({"score": 0.5}, "50", 0, False),
        ({"exit": 3}, "", 0, True),  # could not run, not asked: a warning only
        ({"exit": 3}, "50", 2, False),
    ],
)
def test_the_action_fails_the_job_only_when_asked(tmp_path, checks, plan, fail_under, code, warned):
    folder = write_submission(tmp_path, "repo", **plan)
    done, summary = _action_step(tmp_path, checks, folder, fail_under)
    assert done.returncode == code, done.stdout + done.stderr
    assert summary.read_text().startswith("### dlgrade self-check")
    assert ("::warning title=dlgrade self-check::" in done.stdout) == warned
    assert (tmp_path / "runner" / "dlgrade" / "report.html").is_file()  # what gets uploaded
    assert "--quick" in done.stdout or "quick mode" in done.stdout


def test_the_action_and_example_workflows_are_consistent():
    action = yaml.safe_load((REPO / "ci" / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    declared = set(action["inputs"])
    text = (REPO / "ci" / "action.yml").read_text()
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text))
    assert used <= declared and used, (used, declared)
    steps = action["runs"]["steps"]
    assert all("shell" in step for step in steps if "run" in step)  # composite steps need one
    assert any("self-check.sh" in step.get("run", "") for step in steps)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    for example in sorted((REPO / "ci" / "examples").glob("*.yml")):
        workflow = yaml.safe_load(example.read_text())
        job_steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
        uses = [s for s in job_steps if s.get("uses", "").startswith("COURSE/dlgrade-student@")]
        assert len(uses) == 1, example.name
        assert set(uses[0].get("with", {})) <= declared, example.name
    # Examples must not run as this repository's own CI.
    assert not (REPO / ".github" / "workflows" / "self-check.yml").exists()
