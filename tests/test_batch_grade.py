"""`dlgrade grade`: parallel, resumable, and one broken submission never costs the others.

Submissions are graded by real `pytest` subprocesses running a stand-in
checks folder (tests/batch_standin.py) that speaks the same contract as
`checks/` (`--submission`, `--results-json`), so these tests are fast. What the run
reports is in tests/test_batch_report.py; what it is told (students, folders, the
pytest command, --retrain) in tests/test_batch_options.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.grading.batch import grade_class
from dlgrade.grading.options import GradeOptions
from dlgrade.records import GradeRecord


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


def test_parallel_students_share_the_cores_between_them(tmp_path, monkeypatch):
    from dlgrade.grading.runner import child_environment
    from dlgrade.grading.threads import THREAD_VARIABLES, available_cores, thread_budget

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
