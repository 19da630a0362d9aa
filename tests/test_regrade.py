"""`dlgrade regrade`: evidence kept once, judged again after a rubric change.

One real submission (the fall 2023 full-marks example, problem 5, quick mode)
is graded once with real sandboxed kernels; each test re-judges a copy of
that OUT. How many notebooks ran is read from what the command reports (its
summary line and each student's evidence/use.json), never from the clock.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dlgrade.cli import main
from dlgrade.engine.figures import figure_from
from dlgrade.engine.records import (
    CellResult,
    Kept,
    NotebookRun,
    ProbeResult,
    SourceFile,
)
from dlgrade.evidence.codec import decode_run, encode_run
from dlgrade.evidence.regrade import Settings, _students
from dlgrade.evidence.settle import settle, settled_in
from dlgrade.evidence.store import EVIDENCE_DIR, EvidenceStore, read_uses, start_evidence
from dlgrade.grading.options import GradeOptions, options_to_dict
from dlgrade.grading.student_files import student_files
from dlgrade.records import (
    REVIEW_KEY,
    CheckResult,
    GradeRecord,
    Observation,
    ObservationKind,
    PartStatus,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "submissions" / "examples" / "fall2023-full-marks"
NOTEBOOK = "dlf23_hw1_prob5.ipynb"
# A PNG signature, a 1x1 IHDR, and an IEND chunk: what the engine's PNG check accepts.
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of one (alice), graded once: its root holds `class/` and `out/`."""
    root = tmp_path_factory.mktemp("regrade")
    alice = root / "class" / "alice"
    alice.mkdir(parents=True)
    for name in (NOTEBOOK, "answers.toml"):
        shutil.copy(EXAMPLE / name, alice / name)
    argv = ["grade", str(root / "class"), "--out", str(root / "out"), "--quick"]
    assert main([*argv, "--problems", "p5", "--jobs", "1", "--no-progress"]) == 0
    return root


def clone(graded: Path, target: Path) -> Path:
    """A copy of the graded class and its OUT, the copy's evidence pointing at the copied class."""
    shutil.copytree(graded, target)
    grading = target / "out" / "alice" / EVIDENCE_DIR / "grading.json"
    data = json.loads(grading.read_text())
    data["submission"] = str(target / "class" / "alice")
    grading.write_text(json.dumps(data))
    return target


def regrade(out: Path, capsys: pytest.CaptureFixture, *args: str) -> tuple[str, int]:
    """The command's output and how many notebooks it says it executed again."""
    capsys.readouterr()
    assert main(["regrade", str(out), "--jobs", "1", "--no-progress", *args]) == 0
    printed = capsys.readouterr().out
    found = re.search(r"(\d+) re-executed", printed)
    assert found, printed
    return printed, int(found.group(1))


def record(out: Path, name: str = "grade.json") -> GradeRecord:
    return GradeRecord.from_dict(json.loads((out / "alice" / name).read_text()))


def points(graded: GradeRecord) -> dict[str, float]:
    return {r.part: r.points for r in graded.results}


def test_unchanged_evidence_gives_a_byte_identical_record(graded, tmp_path, capsys):
    out = clone(graded, tmp_path / "copy") / "out"
    first = (out / "alice" / "grade.json").read_bytes()
    printed, executed = regrade(out, capsys)
    assert executed == 0 and "1 notebook(s) judged from evidence" in printed
    assert (out / "alice" / "grade.json").read_bytes() == first
    # The record names the evidence it was judged from: the sha256 of its key.json.
    (digest,) = record(out).evidence.values()
    assert [u.digest for u in read_uses(out / "alice" / EVIDENCE_DIR)] == [digest]


def test_a_manifest_change_moves_only_its_part_and_runs_no_notebook(graded, tmp_path, capsys):
    out = clone(graded, tmp_path / "copy") / "out"
    before = record(out)
    manifest = changed_manifest(tmp_path, "5-q1", points=12)
    printed, executed = regrade(out, capsys, "--manifest", str(manifest))
    assert executed == 0
    assert re.search(r"alice\s+5-q1\s+6 -> 12", printed), printed
    after = record(out)
    assert points(after) == {**points(before), "5-q1": 12.0}
    assert record(out, "grade.previous.json") == before  # the replaced record is kept


def test_parts_limits_what_a_regrade_may_change(graded, tmp_path, capsys):
    out = clone(graded, tmp_path / "copy") / "out"
    before = record(out)
    manifest = changed_manifest(tmp_path, "5-q1", points=12)
    printed, executed = regrade(out, capsys, "--manifest", str(manifest), "--parts", "5-q2")
    assert executed == 0 and "no part changed" in printed
    assert points(record(out)) == points(before)
    # The page is the settled record's (5-q1 out of 6 as before), not the new rubric's 12.
    page = (out / "alice" / "report.html").read_bytes()
    assert page == student_files(record(out))["report.html"]


def test_a_changed_notebook_is_executed_again(graded, tmp_path, capsys):
    root = clone(graded, tmp_path / "copy")
    path = root / "class" / "alice" / NOTEBOOK
    notebook = json.loads(path.read_text())
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["Done."]})
    path.write_text(json.dumps(notebook))
    printed, executed = regrade(root / "out", capsys)
    assert executed == 1
    assert f"re-executed alice/{NOTEBOOK}: the notebook file changed" in printed
    assert points(record(root / "out")) == points(record(graded / "out"))


def test_tampered_evidence_is_refused_and_the_notebook_runs_again(graded, tmp_path, capsys):
    root = clone(graded, tmp_path / "copy")
    (run_json,) = (root / "out" / "alice" / EVIDENCE_DIR).glob("run-*/run.json")
    run = json.loads(run_json.read_text())
    for probe in run["probes"]:  # as if every probe had failed: a zero, were it trusted
        probe["values"], probe["error"] = {}, "forged"
    run_json.write_text(json.dumps(run))
    printed, executed = regrade(root / "out", capsys)
    assert executed == 1 and "run.json was changed after grading" in printed
    assert points(record(root / "out")) == points(record(graded / "out"))


def test_a_manifest_regrades_its_own_edition_only(tmp_path):
    """A fall 2023 rubric change re-judges spring 2023 students with their own manifest."""
    manifest = changed_manifest(tmp_path, "5-q1", points=12)
    out = tmp_path / "out"
    for name, edition in (("ann", "fall2023"), ("ben", "spring2023")):
        (tmp_path / "class" / name).mkdir(parents=True)
        (out / name).mkdir(parents=True)
        (out / name / "grade.json").write_text(json.dumps(GradeRecord(name, edition, []).to_dict()))
        options = options_to_dict(GradeOptions(checks_dir=REPO / "checks"))
        start_evidence(out / name, tmp_path / "class" / name, options)
    students, skipped = _students(out, Settings(manifest=manifest), None)
    assert skipped == {}
    assert {s.name: s.options.manifest for s in students} == {"ann": str(manifest), "ben": None}
    assert {s.options.evidence for s in students} == {"reuse"}


def test_a_regrade_runs_under_its_own_interpreter_and_names_checks_that_are_gone(tmp_path):
    """Graded from a virtual environment since removed: this dlgrade re-judges it; graded
    with a checks folder since removed: it is not regraded, and the reason says what to do."""
    out = tmp_path / "out"
    for name, checks in (("ann", REPO / "checks"), ("ben", tmp_path / "old" / "checks")):
        (tmp_path / "class" / name).mkdir(parents=True)
        (out / name).mkdir(parents=True)
        (out / name / "grade.json").write_text(json.dumps(GradeRecord(name, "x", []).to_dict()))
        gone = GradeOptions(checks_dir=checks, python=str(tmp_path / "old" / ".venv" / "python"))
        start_evidence(out / name, tmp_path / "class" / name, options_to_dict(gone))
    students, skipped = _students(out, Settings(), None)
    assert [(s.name, s.options.python) for s in students] == [("ann", sys.executable)]
    assert "are not there any more: --checks DIR" in skipped["ben"]
    students, skipped = _students(out, Settings(checks_dir=REPO / "checks"), None)
    assert [s.name for s in students] == ["ann", "ben"] and skipped == {}


def test_pytest_grades_against_a_manifest_file_without_evidence_and_refuses_a_broken_one(
    tmp_path,
):
    """`--manifest` is the grading plugin's: a grading that keeps no evidence takes it too."""
    manifest = changed_manifest(tmp_path, "5-q1", points=12)
    (tmp_path / "empty").mkdir()
    base = [sys.executable, "-m", "pytest", str(REPO / "checks"), "-q", "-p", "no:cacheprovider"]
    base += ["--submission", str(tmp_path / "empty"), "--results-json", str(tmp_path / "r.json")]
    subprocess.run([*base, "--manifest", str(manifest)], cwd=REPO, capture_output=True)
    graded = GradeRecord.from_dict(json.loads((tmp_path / "r.json").read_text()))
    assert {r.part: r.max_points for r in graded.results}["5-q1"] == 12.0
    broken = tmp_path / "manifest" / "nope.toml"
    done = subprocess.run([*base, "--manifest", str(broken)], cwd=REPO, capture_output=True)
    assert done.returncode == 4  # pytest's usage error, naming the file
    assert f"--manifest: {broken}: cannot read manifest" in done.stderr.decode()


def changed_manifest(folder: Path, part: str, points: int) -> Path:
    """A copy of the fall 2023 manifest with `part` worth `points` (named as its id must be)."""
    text = (REPO / "reference" / "assignments" / "fall2023.toml").read_text()
    block = f'id = "{part}"'
    head, found, tail = text.partition(block)
    assert found, part
    tail = re.sub(r"points = \d+", f"points = {points}", tail, count=1)
    target = folder / "manifest" / "fall2023.toml"
    target.parent.mkdir()
    target.write_text(head + found + tail)
    return target


# ------------------------------------------------------------ evidence files, no kernel


def a_run(source: SourceFile) -> NotebookRun:
    """A run with every kind of value the checks judge: arrays, JSON, figures, history."""
    axes = {
        "title": "loss",
        "position": [0.1, 0.1, 0.8, 0.8],
        "lines": [{"x": [0, 1], "y": [2, 1]}],
        "images": [{"shape": [1, 1], "data": [0.5]}],
    }
    figure = figure_from({"axes": [axes], "suptitle": "s", "figure_id": 7}, 0, 1)
    return NotebookRun(
        source=source,
        status="errors",
        cells=(
            CellResult(0, "ok", text="hi\n", first_line="print('hi')", duration_s=0.25),
            CellResult(1, "error", "NameError", "name 'x' is not defined", first_line="x"),
        ),
        probes={
            "p": ProbeResult("p", {"w": np.arange(6.0).reshape(2, 3), "meta": {"b": [1, 2]}}),
            "q": ProbeResult("q", {}, "not run: kernel died", ObservationKind.KERNEL_DIED),
        },
        observations=(Observation(source.path.name, ObservationKind.TIMEOUT, "slow"),),
        figures=(replace(figure, png=TINY_PNG),),
        isolation="bubblewrap",
        duration_s=1.5,
        history={"w": (Kept(0, "w0", np.ones(3, dtype=np.float32), 1), Kept(1, "n", 3, 2))},
    )


@pytest.fixture
def stored(tmp_path: Path) -> tuple[EvidenceStore, SourceFile, NotebookRun]:
    """A run kept in a store whose grade.json names it."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / NOTEBOOK).write_text("{}")
    source = SourceFile(folder / NOTEBOOK, "ipynb", "ok", ("p5",))
    store = EvidenceStore(tmp_path / "out" / "alice" / EVIDENCE_DIR, folder, "quick/bwrap")
    run = a_run(source)
    store.fetch(source, [], [])
    store.keep(source, [], [], run)
    grade = {"evidence": store.digests()}
    (tmp_path / "out" / "alice" / "grade.json").write_text(json.dumps(grade))
    return store, source, run


def test_a_run_reads_back_as_it_was_kept(stored):
    store, source, run = stored
    back = decode_run(next(store.folder.glob("run-*")), source)
    assert encode_run(back).files() == encode_run(run).files()
    assert back.figures[0].axes == run.figures[0].axes and back.figures[0].png == TINY_PNG
    assert back.probes["p"].values["w"].dtype == np.float64
    assert back.history["w"][0].value.dtype == np.float32


def test_evidence_is_found_only_when_named_and_unchanged(stored):
    store, source, run = stored
    reuse = EvidenceStore(store.folder, store.submission, store.data_slice)
    assert reuse.fetch(source, [], []) is not None
    other = EvidenceStore(store.folder, store.submission, "full/bwrap")
    assert other.fetch(source, [], []) is None
    assert "data slice" in other.uses[-1].reason
    (store.folder.parent / "grade.json").write_text(json.dumps({"evidence": {}}))
    assert reuse.fetch(source, [], []) is None
    assert "grade.json does not name this evidence" in reuse.uses[-1].reason


def test_a_pickle_in_evidence_is_refused_even_with_matching_digests(stored):
    """Evidence rewritten whole (files, key.json, grade.json) still reads back validated."""
    store, source, run = stored
    folder = next(store.folder.glob("run-*"))
    np.savez(folder / "arrays.npz", a0=np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    listing = json.loads((folder / "key.json").read_text())
    listing["files"]["arrays.npz"] = sha256(folder / "arrays.npz")
    (folder / "key.json").write_text(json.dumps(listing))
    named = {NOTEBOOK: sha256(folder / "key.json")}
    (store.folder.parent / "grade.json").write_text(json.dumps({"evidence": named}))
    reuse = EvidenceStore(store.folder, store.submission, store.data_slice)
    assert reuse.fetch(source, [], []) is None
    assert "evidence refused" in reuse.uses[-1].reason
    assert "not a plain numeric .npz" in reuse.uses[-1].reason


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grade_again(root: Path, capsys: pytest.CaptureFixture, *args: str) -> str:
    capsys.readouterr()
    argv = ["grade", str(root / "class"), "--out", str(root / "out"), "--quick", "--problems"]
    assert main([*argv, "p5", "--jobs", "1", "--no-progress", "--force", *args]) == 0
    return capsys.readouterr().out


def test_grade_force_judges_from_matching_evidence_and_rerun_executes(graded, tmp_path, capsys):
    root = clone(graded, tmp_path / "copy")
    before = points(record(root / "out"))
    printed = _grade_again(root, capsys)
    assert "evidence: 1 notebook(s) judged from kept evidence, 0 executed" in printed
    assert points(record(root / "out")) == before
    printed = _grade_again(root, capsys, "--rerun")
    assert "evidence: 0 notebook(s) judged from kept evidence, 1 executed" in printed
    assert f"executed alice/{NOTEBOOK}" in printed
    assert points(record(root / "out")) == before


def test_rerun_without_force_is_refused(tmp_path, capsys):
    argv = ["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--rerun"]
    assert main(argv) == 2
    assert "use it with --force" in capsys.readouterr().err


def test_evidence_shows_what_a_part_was_judged_from_and_says_when_it_was_altered(
    graded, tmp_path, capsys
):
    out = clone(graded, tmp_path / "copy") / "out"
    capsys.readouterr()
    assert main(["evidence", str(out), "alice", "--part", "5-q3"]) == 0
    shown = capsys.readouterr().out
    verdict = next(r for r in record(out).results if r.part == "5-q3")
    assert f"5-q3: {verdict.points:g}/{verdict.max_points:g} {verdict.status}" in shown
    digest = record(out).evidence[NOTEBOOK]
    assert f"{NOTEBOOK}: evidence {digest[:12]}, last grading: executed" in shown
    assert re.search(r"probe p5_q3\w*: .*s0_w0=array\(784, 32\)", shown), shown
    assert "5-q1" not in shown  # only the part asked about
    run_json = next((out / "alice" / EVIDENCE_DIR).glob("run-*/run.json"))
    run_json.write_text(run_json.read_text().replace('"ok"', '"error"', 1))
    assert main(["evidence", str(out), "alice", "--part", "5-q3"]) == 0
    assert "ALTERED after grading: run.json" in capsys.readouterr().out
    assert main(["evidence", str(out), "alice", "--part", "9-z"]) == 2
    assert "no part '9-z'" in capsys.readouterr().err


def _result(part: str, points: float, **details: object) -> CheckResult:
    return CheckResult(part, part, points, 6.0, PartStatus.PASSED if points else PartStatus.FAILED,
                       details=dict(details))  # fmt: skip


def _graded(results: list[CheckResult], duration: float, device: str) -> GradeRecord:
    devices = Observation("harness", ObservationKind.DEVICES, device)
    return GradeRecord("alice", "fall2023", results, duration_s=duration, observations=[devices])


def test_settling_keeps_what_the_regrade_does_not_decide_and_settling_twice_changes_nothing():
    previous = _graded([_result("5-q1", 6), _result("5-q2", 0, **{REVIEW_KEY: "ta"}),
                        _result("5-q3", 6)], 40.0, "cpu (first run)")  # fmt: skip
    new = _graded([_result("5-q1", 0), _result("5-q2", 6), _result("5-q3", 0)], 2.0, "cpu")
    once = settle(previous, new, ["5-q1", "5-q2"], executed=False)
    # 5-q1 asked and re-judged; 5-q2 a TA's score; 5-q3 not asked for.
    assert points(once) == {"5-q1": 0.0, "5-q2": 0.0, "5-q3": 6.0}
    assert once.duration_s == 40.0 and once.observations[-1].message == "cpu (first run)"
    # What a grading process settled, the regrade may settle again: the same record.
    assert settle(previous, once, ["5-q1", "5-q2"], executed=False) == once
    ran = settle(previous, new, [], executed=True)  # a notebook ran: the new run's clock
    assert ran.duration_s == 2.0 and points(ran) == {"5-q1": 0.0, "5-q2": 0.0, "5-q3": 0.0}


def test_a_grading_process_settles_against_the_record_in_its_folder(tmp_path):
    previous = _graded([_result("5-q1", 6)], 40.0, "cpu (first run)")
    new = _graded([_result("5-q1", 0)], 2.0, "cpu")
    assert settled_in(tmp_path, new, ()) == new  # no record there: nothing to settle against
    (tmp_path / "grade.json").write_text(json.dumps(previous.to_dict()))
    (tmp_path / EVIDENCE_DIR).mkdir()  # no use.json: nothing executed
    assert settled_in(tmp_path, new, ()) == settle(previous, new, (), executed=False)
    assert settled_in(tmp_path, new, ()).duration_s == 40.0
