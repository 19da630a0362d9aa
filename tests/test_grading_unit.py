"""The unit of grading work: serialisable results, zip submissions, and no state shared
between the students a zygote forks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade import progress
from dlgrade.engine import SandboxConfig
from dlgrade.engine.sandbox import device_summary
from dlgrade.grading.archive import unpack_archive
from dlgrade.grading.cluster.dispatch import zip_submission
from dlgrade.grading.ending import Ending, ended_result
from dlgrade.grading.options import GradeOptions, options_from_dict, options_to_dict
from dlgrade.grading.result import RESULT_NAME, UnitResult, read_result, write_result
from dlgrade.grading.zygote import Zygote
from dlgrade.records import CheckResult, GradeRecord, PartStatus

REPO = Path(__file__).resolve().parents[1]

# A checks folder whose only check reports what the grading process has seen: its pid,
# and a list kept on a module the zygote preloads (so a forked child starts with the
# zygote's copy of it). A child that saw another student's entry would be a leak.
LEAK_CONFTEST = r"""
import json, os
from pathlib import Path

import dlgrade.grading.plugin as preloaded


def pytest_addoption(parser):
    parser.addoption("--submission")
    parser.addoption("--results-json")
    parser.addoption("--isolation")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    seen = getattr(preloaded, "_students_seen", [])
    seen.append(Path(config.getoption("--submission")).name)
    preloaded._students_seen = seen
    record = {"student": "x", "assignment": "fall2023", "status": "graded",
              "results": [{"part": "4-arch", "name": "n", "points": 1.0, "max_points": 1.0,
                           "status": "passed", "message": "",
                           "details": {"pid": os.getpid(), "seen": seen}}]}
    Path(config.getoption("--results-json")).write_text(json.dumps(record))
"""


def test_results_and_options_survive_json():
    record = GradeRecord(
        student="alice",
        assignment="fall2023",
        results=[CheckResult("4-arch", "MLP", 6.0, 6.0, "passed", "", "visible", {"found": "ok"})],
    )
    result = UnitResult(record, {"grade.json": b"{}", "report.html": b"\x00\xffbinary"})
    assert UnitResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    options = GradeOptions(checks_dir=Path("/x/checks"), quick=True, problems=("p4",), threads=2)
    assert options_from_dict(json.loads(json.dumps(options_to_dict(options)))) == options


def test_a_fresh_interpreter_grades_a_zipped_submission(tmp_path):
    checks = write_standin_checks(tmp_path / "standin" / "checks")
    folder = write_submission(tmp_path / "class", "alice", score=0.5)
    archive = tmp_path / "alice.zip"
    archive.write_bytes(zip_submission(folder, "alice"))  # as the cluster ships it
    options = GradeOptions(checks_dir=checks, junit=True)
    work = tmp_path / "work"
    command = [sys.executable, "-m", "dlgrade.grading.unit", str(archive), "--student", "alice"]
    command += ["--work-dir", str(work), "--options", json.dumps(options_to_dict(options))]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(command, check=True, cwd=checks.parent, env=env, timeout=300)
    result = read_result(work / RESULT_NAME)
    assert result.record.student == "alice" and result.record.total == 18.0
    assert {"grade.json", "results.json", "report.html", "grading.log", "junit.xml"} <= set(
        result.files
    )
    assert json.loads(result.files["grade.json"])["student"] == "alice"


def _tree(root: Path) -> dict[str, str | bytes]:
    return {
        p.relative_to(root).as_posix(): str(p.readlink()) if p.is_symlink() else p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def test_a_shipped_zip_unpacks_to_the_folders_own_tree(tmp_path):
    # A folder holding one sub-folder only: were the zip not under the student's name, the
    # unpacked submission would be that sub-folder (a zip of a folder is its contents).
    folder = tmp_path / "class" / "carol"
    (folder / "work").mkdir(parents=True)
    (folder / "work" / "hw1.py").write_text("x = 1\n")
    (folder / "work" / "theirs.ipynb").symlink_to("../../elsewhere.ipynb")
    unpacked = unpack_archive(zip_submission(folder, "carol"), tmp_path / "worker")
    assert unpacked == tmp_path / "worker" / "carol"
    assert (
        _tree(unpacked)
        == _tree(folder)
        == {
            "work/hw1.py": b"x = 1\n",
            "work/theirs.ipynb": "../../elsewhere.ipynb",
        }
    )


@pytest.mark.slow
def test_each_forked_student_starts_from_the_zygote_not_from_the_previous_student(tmp_path):
    checks = tmp_path / "leak" / "checks"
    checks.mkdir(parents=True)
    (checks / "conftest.py").write_text(LEAK_CONFTEST)
    (checks / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    options = GradeOptions(checks_dir=checks, timeout_s=300)
    details = []
    with Zygote(options) as zygote:
        for name in ("alice", "bob"):
            folder = tmp_path / "class" / name
            folder.mkdir(parents=True)
            job = zygote.submit(name, folder, tmp_path / "out" / name, options)
            while not job.poll():
                time.sleep(0.05)
            result = job.finish()
            assert result.record.status == "graded", result.record.observations
            details.append(result.record.results[0].details)
        zygote_pid = zygote.process.pid
    assert [d["seen"] for d in details] == [["alice"], ["bob"]]
    pids = {d["pid"] for d in details}
    assert len(pids) == 2 and zygote_pid not in pids and os.getpid() not in pids


def test_the_record_says_which_device_ran_what():
    assert device_summary(SandboxConfig(allow_gpu=False)).startswith("no GPU")


def _graded(student: str) -> UnitResult:
    result = CheckResult("1a", "gradient", 4.0, 4.0, PartStatus.PASSED, "right")
    return UnitResult(GradeRecord(student, "fall2023", [result]), {"report.html": b"<p>ok</p>"})


def _ended(tmp_path: Path, ending: Ending, result: UnitResult | str | None) -> UnitResult:
    """What `ended_result` makes of a work dir holding `result` (raw text: a torn file)."""
    work, log = tmp_path / "work", tmp_path / "work" / "log.txt"
    work.mkdir(parents=True)
    log.write_text("collecting ...\nlast line of the log\n")
    if isinstance(result, UnitResult):
        write_result(work / RESULT_NAME, result)
    elif isinstance(result, str):
        (work / RESULT_NAME).write_text(result)
    options = GradeOptions(checks_dir=tmp_path, timeout_s=30.0, quick=True)
    return ended_result("ann", options, work, log, ending)


def test_a_clean_exit_gives_the_result_the_process_wrote(tmp_path):
    for code in (0, None):  # None: the zygote died after its child wrote the result
        result = _ended(tmp_path / str(code), Ending(1.0, False, code), _graded("ann"))
        assert result == _graded("ann")
        assert not (tmp_path / str(code) / "work" / RESULT_NAME).exists()


@pytest.mark.parametrize(
    ("ending", "written", "words"),
    [
        (Ending(31.0, True, -9), _graded("ann"), "exceeded the 30 s limit and was stopped"),
        (Ending(2.0, False, 1), None, "exited with code 1 (unexpected) without writing"),
        (Ending(2.0, False, -9), _graded("ann"), "(killed by signal SIGKILL) after writing"),
        (Ending(2.0, False, None, "was lost with the server"), None, "was lost with the server"),
        (Ending(2.0, False, 0), '{"record": {', "is unreadable"),
    ],
    ids=["timed-out", "no-record", "crashed-after-writing", "lost", "torn-record"],
)
def test_a_bad_ending_is_an_error_record_saying_why(tmp_path, ending, written, words):
    result = _ended(tmp_path, ending, written)
    record = result.record
    assert record.status == "error" and record.student == "ann" and record.quick
    assert record.duration_s == ending.duration_s and record.results == []
    reason = record.observations[0].message
    assert words in reason, reason
    if "unreadable" not in words:
        assert "last line of the log" in reason  # the TA sees where the process got to


def test_a_timeout_keeps_the_verdicts_reached_and_names_the_running_cell(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    placeholder = CheckResult("5-q1", "init", 0.0, 6.0, PartStatus.TIMEOUT)
    with progress.recording(work):
        progress.note_parts("fall2023", [CheckResult("2a", "l1", 0.0, 4.0, "timeout"), placeholder])
        progress.note_result(CheckResult("2a", "l1", 4.0, 4.0, PartStatus.PASSED))
        progress.note_cell("hw1p5.ipynb", 6, "while True:")
    with (work / progress.PARTS_NAME).open("a") as handle:
        handle.write('{"result": {"part": "5-q1", "na')  # torn by the kill
    (work / "log.txt").write_text("collecting ...\nlast line of the log\n")
    options = GradeOptions(checks_dir=tmp_path, timeout_s=30.0, quick=True)
    result = ended_result("ann", options, work, work / "log.txt", Ending(31.0, True, -9))
    record = result.record
    assert record.status == "graded" and record.assignment == "fall2023"
    assert [(r.part, r.status, r.points) for r in record.results] == [
        ("2a", "passed", 4.0),
        ("5-q1", "timeout", 0.0),
    ]
    message = record.results[1].message
    assert "30 s limit" in message and "cell 7 of hw1p5.ipynb (while True:)" in message
    assert "last line of the log" not in message + record.observations[0].message
    assert record.graded_percent() == 40.0 and "grade.json" in result.files
    assert not (work / progress.PARTS_NAME).exists() and not (work / progress.CELL_NAME).exists()
    assert progress.ENV not in os.environ  # the recording ended with its block
