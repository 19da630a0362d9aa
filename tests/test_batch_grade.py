"""`dlgrade grade`: parallel, resumable, and one broken submission never costs the others.

Submissions are graded by real `pytest` subprocesses running a stand-in
checks folder (tests/batch_standin.py) that speaks the same contract as
`checks/` (`--submission`, `--results-json`), so these tests are fast.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.grading.batch import BatchOutcome, grade_class
from dlgrade.grading.batch_errors import BatchError
from dlgrade.grading.batch_summary import summary_lines
from dlgrade.grading.resume import select
from dlgrade.grading.runner import GradeOptions, pytest_command
from dlgrade.intake import folders
from dlgrade.records import CheckResult, GradeRecord


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, checks: Path) -> tuple[Path, Path, int]:
    """One CLI run over a good, a partial, a crashing and a hanging submission (the limit
    leaves room for a loaded machine: only the hang may reach it)."""
    root = tmp_path_factory.mktemp("class")
    write_submission(root, "alice", score=1.0, sleep=1.0)
    write_submission(root, "bob", score=0.5, sleep=1.0)
    write_submission(root, "carol", exit=3)
    write_submission(root, "dave", hang=True)
    write_submission(root, "_template", score=1.0)  # ignored: leading underscore
    out = root.parent / (root.name + "-out")
    argv = ["grade", str(root), "--out", str(out), "--checks", str(checks), "--jobs", "2"]
    argv += ["--timeout", "40", "--no-progress", "--problems", "p4,p5", "--junit"]
    return root, out, main(argv)


def _grade(out: Path, student: str) -> GradeRecord:
    return GradeRecord.from_dict(json.loads((out / student / "grade.json").read_text()))


def test_every_submission_gets_a_record_and_the_run_succeeds(graded):
    root, out, code = graded
    assert code == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["alice", "bob", "carol", "dave"]
    assert _grade(out, "alice").total == 30.0
    assert _grade(out, "bob").total == 18.0  # 6 + 2 + 5 + 0 + 5
    assert _grade(out, "alice").student == "alice"  # the folder name, whatever the plugin says
    assert not list(out.rglob("*.part")) and not list(out.rglob(".record.json"))


def test_a_crash_becomes_an_error_record_with_the_exit_code_and_log(graded):
    _, out, _ = graded
    carol = _grade(out, "carol")
    assert carol.status == "error" and carol.results == []
    message = carol.observations[0].message
    assert "exited with code 3" in message and "crashing on purpose" in message


def test_a_hang_is_stopped_at_the_timeout(graded):
    _, out, _ = graded
    dave = _grade(out, "dave")
    assert dave.status == "error"
    assert "exceeded the 40 s limit" in dave.observations[0].message


def test_two_jobs_really_overlap(graded):
    _, out, _ = graded
    spans = [_grade(out, s).results[0].details for s in ("alice", "bob")]
    assert spans[0]["started"] < spans[1]["ended"] and spans[1]["started"] < spans[0]["ended"]


def test_options_reach_the_checks(graded):
    _, out, _ = graded
    assert _grade(out, "alice").results[0].details["problems"] == "p4,p5"
    assert (out / "alice" / "junit.xml").is_file()


def test_class_files(graded):
    _, out, _ = graded
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"alice", "bob", "carol", "dave"}
    assert rows["bob"]["5-q2"] == "5.0" and rows["bob"]["total"] == "18.0"
    assert rows["carol"]["status"] == "error"
    assert {"max", "status", "duration_s", "student_compute_s"} <= set(rows["alice"])
    listed = json.loads((out / "grades.json").read_text())
    assert [GradeRecord.from_dict(d).student for d in listed] == ["alice", "bob", "carol", "dave"]
    gradescope = json.loads((out / "bob" / "results.json").read_text())
    assert gradescope["score"] == 18.0 and len(gradescope["tests"]) == 5
    assert (out / "bob" / "report.html").is_file()
    index = (out / "index.html").read_text()
    assert 'href="carol/report.html"' in index


def test_a_rerun_resumes_and_only_regrades_one(graded, checks):
    root, out, _ = graded
    options = GradeOptions(checks_dir=checks, timeout_s=40)
    again = grade_class(root, out, options, jobs=2, progress=False)
    assert again.graded == [] and sorted(again.resumed) == ["alice", "bob", "carol", "dave"]
    write_submission(root, "carol", score=1.0)  # carol fixes her notebook
    one = grade_class(root, out, options, jobs=2, only="carol", progress=False)
    assert one.graded == ["carol"]
    assert _grade(out, "carol").status == "graded"
    assert "carol,6.0" in (out / "grades.csv").read_text()


def test_a_full_run_regrades_what_a_quick_run_graded(tmp_path, checks):
    root, out = tmp_path / "class", tmp_path / "out"
    write_submission(root, "alice", score=1.0)
    quick = GradeOptions(checks_dir=checks, timeout_s=40, quick=True)
    assert grade_class(root, out, quick, jobs=1, progress=False).graded == ["alice"]
    assert grade_class(root, out, quick, jobs=1, progress=False).resumed == ["alice"]
    assert _grade(out, "alice").quick
    # Quick scores are indicative only: a full run must not pass them off as real grades.
    full = GradeOptions(checks_dir=checks, timeout_s=40)
    assert grade_class(root, out, full, jobs=1, progress=False).graded == ["alice"]
    assert not _grade(out, "alice").quick
    assert _previous(out, "alice").quick  # the replaced quick grade is kept
    assert grade_class(root, out, full, jobs=1, progress=False).resumed == ["alice"]


def _previous(out: Path, student: str) -> GradeRecord:
    return GradeRecord.from_dict(json.loads((out / student / "grade.previous.json").read_text()))


def test_a_quick_run_never_replaces_a_full_grade_without_force(tmp_path, checks, capsys):
    root, out = tmp_path / "class", tmp_path / "out"
    write_submission(root, "alice", score=1.0)
    write_submission(root, "bob", score=0.5)
    base = ["grade", str(root), "--out", str(out), "--checks", str(checks), "--jobs", "2"]
    base += ["--timeout", "40", "--no-progress", "--no-similarity"]
    assert main(base) == 0  # full mode
    full_alice = (out / "alice" / "grade.json").read_bytes()
    write_submission(root, "carol", score=1.0)  # a late hand-in, graded quickly
    capsys.readouterr()
    assert main([*base, "--quick"]) == 0
    summary = capsys.readouterr().out
    assert "graded 1 submission(s)" in summary
    assert "2 already graded" in summary and "2 of them graded in full mode and kept" in summary
    assert (out / "alice" / "grade.json").read_bytes() == full_alice
    assert not (out / "alice" / "grade.previous.json").exists()
    assert _grade(out, "carol").quick
    # --only replaces one full grade and keeps it beside the new one.
    assert main([*base, "--quick", "--only", "bob"]) == 0
    assert _grade(out, "bob").quick and not _previous(out, "bob").quick
    assert _previous(out, "bob").total == 18.0
    # --force replaces them all, each replaced grade kept.
    assert main([*base, "--quick", "--force"]) == 0
    assert _grade(out, "alice").quick
    assert (out / "alice" / "grade.previous.json").read_bytes() == full_alice
    assert _previous(out, "carol").quick  # a quick grade replaced by a quick one: kept too
    assert not list(out.rglob("*.part"))


def test_a_full_grade_survives_quick_then_full_then_quick(tmp_path, checks):
    root, out = tmp_path / "class", tmp_path / "out"
    write_submission(root, "alice", score=1.0)
    quick = GradeOptions(checks_dir=checks, timeout_s=40, quick=True)
    full = GradeOptions(checks_dir=checks, timeout_s=40)
    assert grade_class(root, out, quick, jobs=1, progress=False).graded == ["alice"]
    assert grade_class(root, out, full, jobs=1, progress=False).graded == ["alice"]
    again = grade_class(root, out, quick, jobs=1, progress=False)
    assert again.graded == [] and again.kept_full == ["alice"]
    assert not _grade(out, "alice").quick and _previous(out, "alice").quick


def test_summary_is_three_lines_then_the_class_report(tmp_path):
    def record(student: str, q3: float) -> GradeRecord:
        results = [
            CheckResult("4-arch", "architecture", 6.0, 6.0, "passed"),
            CheckResult("5-q3", "gradients", q3, 14.0, "passed" if q3 else "failed"),
            CheckResult("2c", "reflection", 0.0, 4.0, "manual"),
            # not judged in quick mode: neither a failure nor the hardest part
            CheckResult("4-reported", "reported accuracy", 0.0, 2.0, "skipped"),
        ]
        return GradeRecord(student, "spring2023", results, quick=True)

    records = [record("alice", 0.0), record("bob", 14.0), GradeRecord("carol", "", [], "error")]
    outcome = BatchOutcome(records, ["carol"], ["alice", "bob"], wall_s=12.34, similarity=None)
    assert summary_lines(outcome, tmp_path) == [
        f"graded 1 submission(s) in 12.3 s, 2 already graded in {tmp_path} (--force regrades); "
        "quick mode: trained on data slices, indicative only (drop --quick for real grades)",
        # percent of the graded parts: 6/24 and 20/24 (the skipped part is not graded)
        "scores: mean 54.2 %, lowest 25.0 % (alice), highest 83.3 % (bob); "
        "hardest part 5-q3 (passed by 1 of 2)",
        "to look at: 1 grading error(s) (carol: see their report.html; this is a bug in dlgrade, "
        "not the student's mistake: please report it; after a fix regrade one with dlgrade grade "
        "DIR --out OUT --force --only NAME), 2 part(s) awaiting a TA (dlgrade merge-manual), "
        "0 pair(s) of similar code",
        f"class report: {tmp_path / 'index.html'}",
    ]


def test_unknown_student_and_empty_folder_are_clear_errors(tmp_path, checks):
    write_submission(tmp_path / "class", "alice")
    with pytest.raises(BatchError, match="did you mean alice"):
        select(folders.read(tmp_path / "class").folders(), tmp_path / "out", only="alyce")
    (tmp_path / "empty").mkdir()
    argv = ["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--checks", str(checks)]
    assert main(argv) == 2


def test_pytest_command_matches_the_grading_contract(tmp_path):
    options = GradeOptions(
        checks_dir=tmp_path / "checks",
        assignment="spring2023",
        quick=True,
        retrain=True,
        visible_only=True,
        problems=("p4", "p5"),
    )
    command = pytest_command(options, tmp_path / "s", tmp_path / "r.json", tmp_path / "j.xml")
    text = " ".join(command[1:])
    assert text.startswith(f"-m pytest {tmp_path / 'checks'} --submission {tmp_path / 's'}")
    for expected in (
        f"--results-json {tmp_path / 'r.json'}",
        "-p no:cacheprovider",
        "--assignment spring2023",
        "--quick",
        "--retrain",
        "--visible-only",
        "--problems p4,p5",
        f"--junitxml {tmp_path / 'j.xml'}",
    ):
        assert expected in text


def test_an_out_folder_inside_the_class_folder_is_not_a_student(tmp_path, checks):
    write_submission(tmp_path / "class", "alice", score=1.0)
    out = tmp_path / "class" / "results"
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    first = grade_class(tmp_path / "class", out, options, jobs=1, progress=False)
    again = grade_class(tmp_path / "class", out, options, jobs=1, progress=False)
    assert first.graded == ["alice"] and again.resumed == ["alice"]
    assert [r.student for r in again.records] == ["alice"]


def test_parallel_students_share_the_cores_between_them(tmp_path, monkeypatch):
    from dlgrade.grading.runner import (
        THREAD_VARIABLES,
        available_cores,
        child_environment,
        thread_budget,
    )

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    options = GradeOptions(checks_dir=tmp_path)
    assert thread_budget(options, 1) is options  # one student: the libraries' own default
    assert child_environment(options).get("OMP_NUM_THREADS") is None
    shared = thread_budget(options, 2)
    assert shared.threads == max(1, available_cores() // 2)
    env = child_environment(shared)
    assert all(env[name] == str(shared.threads) for name in THREAD_VARIABLES)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # a TA's own setting wins
    assert child_environment(shared)["OMP_NUM_THREADS"] == "7"


def test_thread_budget_reaches_the_kernel(tmp_path, monkeypatch):
    from dlgrade.engine.sandbox import kernel_env
    from dlgrade.engine.workspace import RunDirs

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    dirs = RunDirs.create()
    try:
        env = kernel_env(dirs, None, tmp_path, dirs.tmp, cuda_shim=False)
    finally:
        dirs.remove()
    assert env["OMP_NUM_THREADS"] == "1"
    assert "MKL_NUM_THREADS" not in env  # only what the grader itself has set passes


HARNESS_ERROR = (
    "harness error (KeyError: 'w0'); this is a bug in dlgrade, not the student's mistake: "
    "please report it (traceback in the grading log)"
)


def test_a_harness_error_in_one_part_is_counted_flagged_and_left_out_of_the_mean(
    tmp_path, checks, capsys
):
    root = tmp_path / "class"
    write_submission(root, "alice", score=1.0)
    write_submission(root, "erin", score=1.0, verdicts={"5-q2": ["error", HARNESS_ERROR]})
    out = tmp_path / "out"
    argv = ["grade", str(root), "--out", str(out), "--checks", str(checks), "--no-similarity"]
    assert main([*argv, "--jobs", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    # Both lose only the pending manual 2c (4 points): alice 30/34 = 88.2 %, erin 20/24 =
    # 83.3 % with the errored 10-point part left out (not 20/34 = 58.8 %), mean 85.8 %.
    assert "scores: mean 85.8 %, lowest 83.3 % (erin), highest 88.2 % (alice)" in printed
    assert (
        "to look at: 1 grading error(s) (erin: see their report.html; this is a bug in "
        "dlgrade, not the student's mistake: please report it; after a fix regrade one with "
        "dlgrade grade DIR --out OUT --force --only NAME)"
    ) in printed
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (rows["erin"]["errors"], rows["erin"]["5-q2"], rows["alice"]["errors"]) == (
        "1",
        "0.0",
        "0",
    )
    index = (out / "index.html").read_text()
    assert 'id="error-count">1<' in index
    assert (
        "harness error in 5-q2 (this is a bug in dlgrade, not the student&#39;s mistake: please "
        "report it; after a fix: dlgrade grade DIR --out OUT --force --only erin)"
    ) in index
    assert ">85.8 %<" in index  # the class mean
    gradescope = json.loads((out / "erin" / "results.json").read_text())
    q2 = next(t for t in gradescope["tests"] if t["name"].startswith("5-q2"))
    assert q2["status"] == "failed" and q2["name"].endswith("(grader error)")
    assert q2["output"].startswith("The grader itself failed on this part; this is not your fault")
    assert HARNESS_ERROR in q2["output"]


def test_a_report_that_cannot_be_rendered_marks_its_student_only(tmp_path, checks, monkeypatch):
    import dlgrade.grading.student_files as pages  # where a student's page is rendered
    from dlgrade.grading.outputs import rebuild_reports

    real = pages.render_student

    def render(record, *args, **kwargs):
        if record.student == "bob":
            raise RuntimeError("template tripped on bob's details")
        return real(record, *args, **kwargs)

    root = tmp_path / "class"
    write_submission(root, "alice", score=1.0)
    write_submission(root, "bob", score=0.5)
    out = tmp_path / "out"
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    grade_class(root, out, options, jobs=2, progress=False)
    # Pages are rendered in each student's grading process and again by a rebuild
    # (after a manual-review merge, say): the rebuild runs here, where the bug is planted.
    monkeypatch.setattr(pages, "render_student", render)
    records = rebuild_reports(out)
    assert sorted(r.student for r in records) == ["alice", "bob"]
    bob = _grade(out, "bob")
    assert bob.total == 18.0  # the grade stands
    assert [(o.kind, o.message) for o in bob.observations if o.kind == "report-error"] == [
        (
            "report-error",
            "the report page could not be rendered (RuntimeError: template tripped on bob's "
            "details); a plain page was written instead; this is a bug in dlgrade, not the "
            "student's mistake: please report it (traceback in report-error.log)",
        )
    ]
    assert "RuntimeError: template tripped" in (out / "bob" / "report-error.log").read_text()
    assert "<h1>bob: 18 / 34</h1>" in (out / "bob" / "report.html").read_text()
    index = (out / "index.html").read_text()
    assert "report-error in harness: the report page could not be rendered" in index
    monkeypatch.setattr(pages, "render_student", real)  # the bug fixed: a rebuild clears it
    rebuild_reports(out)
    assert "report-error" not in [o.kind for o in _grade(out, "bob").observations]
    assert 'id="total">18 / 34<' in (out / "bob" / "report.html").read_text()


def test_an_unreadable_grade_file_becomes_that_students_error_record(tmp_path, checks):
    root = tmp_path / "class"
    write_submission(root, "alice", score=1.0)
    write_submission(root, "bob", score=0.5)
    out = tmp_path / "out"
    options = GradeOptions(checks_dir=checks, timeout_s=60)
    grade_class(root, out, options, jobs=2, progress=False)
    (out / "bob" / "grade.json").write_text('{"student": "bob", "resul')  # torn by a crash
    again = grade_class(root, out, options, jobs=2, progress=False)
    bob = next(r for r in again.records if r.student == "bob")
    assert bob.status == "error" and again.errors == ["bob"]
    assert bob.observations[0].message.startswith("cannot read grade record")
    assert bob.observations[0].message.endswith(
        "; or: dlgrade grade DIR --out OUT --force --only bob"
    )
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (rows["bob"]["status"], rows["bob"]["total"]) == ("error", "0.0")


def test_retrain_is_an_option_of_grade_and_check():
    from dlgrade.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["grade", "class", "--out", "o", "--retrain"]).retrain
    assert parser.parse_args(["check", "alice", "--retrain"]).retrain
    assert not parser.parse_args(["check", "alice"]).retrain
