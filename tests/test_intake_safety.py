"""No upload stops the class: each hostile upload marks its own student, and names survive.

Real zips (built by tests/hostile_zips.py), real class folders and a real
batch run with the stand-in checks (tests/batch_standin.py) in fresh
grading processes.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from batch_standin import write_standin_checks
from graded_out import grade_in
from hostile_zips import bomb_zip, encrypted_zip, plain_zip, symlink_zip

from dlgrade.cli import main
from dlgrade.grading.batch import grade_class
from dlgrade.grading.options import GradeOptions
from dlgrade.intake import read_class
from dlgrade.intake.unpack import STUDENT_LIMITS, Limits, unpack

NOT_UTF8 = os.fsdecode(b"caf\xe9-m\xfcller")  # a Latin-1 folder name, as Linux hands it over


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def _zip(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_zip_unpacks_member_by_member_and_names_what_it_skipped(tmp_path):
    members = {"a": b"file", "a/b": b"under a file", "answers.toml": b"x = 1\n"}
    clashing = unpack(_zip(tmp_path / "clash.zip", plain_zip(members)), tmp_path / "clash")
    assert clashing.written == ("a", "answers.toml")
    assert [(s.member, s.reason) for s in clashing.skipped] == [
        ("a/b", "lies inside a name that is a file in the same zip")
    ]
    link = unpack(_zip(tmp_path / "link.zip", symlink_zip()), tmp_path / "link")
    assert link.written == () and "symbolic link" in link.skipped[0].reason
    assert not (tmp_path / "link" / "answers.toml").exists()  # neither a link nor a file
    locked = unpack(_zip(tmp_path / "enc.zip", encrypted_zip(members)), tmp_path / "enc")
    assert locked.written == () and all("encrypted" in s.reason for s in locked.skipped)


def test_a_folder_then_a_file_of_the_same_name_keeps_both(tmp_path):
    archive = _zip(tmp_path / "x.zip", plain_zip({"a/b": b"inner", "a": b"outer"}))
    unpacked = unpack(archive, tmp_path / "x")
    assert unpacked.written == ("a/b", "a (2)") and not unpacked.skipped
    assert (tmp_path / "x" / "a (2)").read_bytes() == b"outer"


def test_a_students_zip_is_capped_in_size_and_in_files(tmp_path):
    from dlgrade.intake import IntakeError

    with pytest.raises(IntakeError, match="more than 512 MiB is refused"):
        unpack(_zip(tmp_path / "bomb.zip", bomb_zip()), tmp_path / "bomb", STUDENT_LIMITS)
    assert not (tmp_path / "bomb").exists()  # refused before a byte was written
    many = _zip(tmp_path / "many.zip", plain_zip({f"f{i}.txt": b"" for i in range(4)}))
    with pytest.raises(IntakeError, match="holds 4 files; more than 3"):
        unpack(many, tmp_path / "many", Limits(bytes=1 << 20, members=3))


def _canvas_download(root: Path, uploads: dict[str, bytes]) -> Path:
    """A Canvas download: one `hw1.zip` upload per student, keyed by squeezed name."""
    root.mkdir()
    for user, (name, data) in enumerate(uploads.items(), start=501):
        (root / f"{name}_{user}_{9000 + user}_hw1.zip").write_bytes(data)
    return root


def test_each_hostile_canvas_upload_refuses_only_its_student(tmp_path):
    uploads = {
        "good": plain_zip({"hw1/answers.toml": b"x = 1\n"}),
        "bomb": bomb_zip(),
        "clash": plain_zip({"a": b"1", "a/b": b"2"}),
        "locked": encrypted_zip({"answers.toml": b"x = 1\n"}),
        "link": symlink_zip(),
        "broken": b"PK\x03\x04 not really a zip",
    }
    intake = read_class(_canvas_download(tmp_path / "dl", uploads), tmp_path / "work")
    refused = intake.summary().refused
    assert sorted(intake.hand_ins) == sorted(uploads)  # every student is still there
    assert sorted(refused) == ["bomb", "broken", "clash", "link", "locked"]
    assert "more than 512 MiB is refused" in refused["bomb"]
    assert "'a/b' lies inside a name that is a file" in refused["clash"]
    assert "encrypted" in refused["locked"] and "symbolic link" in refused["link"]
    assert "hw1.zip is not a readable zip file" in refused["broken"]
    assert (intake.hand_ins["broken"].folder / "hw1.zip").is_file()  # kept as uploaded
    assert (intake.hand_ins["good"].folder / "hw1" / "hw1" / "answers.toml").is_file()


def test_a_class_zip_member_that_cannot_be_unpacked_refuses_its_student(tmp_path):
    members = {"alice/answers.toml": b"x = 1\n", "bob/a": b"1", "bob/a/b": b"2", "c.txt": b""}
    export = _zip(tmp_path / "class.zip", plain_zip(members))
    intake = read_class(export, tmp_path / "work")
    assert intake.layout == "folders" and sorted(intake.hand_ins) == ["alice", "bob"]
    assert intake.summary().refused == {
        "bob": "the export held file(s) of this submission that could not be unpacked: "
        "'bob/a/b' lies inside a name that is a file in the same zip"
    }


def _grade(source: Path, out: Path, checks: Path, *extra: str) -> int:
    argv = ["grade", str(source), "--out", str(out), "--checks", str(checks), "--no-progress"]
    return main([*argv, "--launcher", "fresh", "--no-similarity", *extra])


def test_a_refused_upload_gets_a_malformed_record_and_the_class_is_graded(tmp_path, checks):
    uploads = {"good": plain_zip({"answers.toml": b"x = 1\n"}), "locked": encrypted_zip({"a": b""})}
    out = tmp_path / "out"
    code = _grade(_canvas_download(tmp_path / "dl", uploads), out, checks, "--problems", "1,2")
    assert code == 0
    good, locked = grade_in(out, "good"), grade_in(out, "locked")
    assert good.status == "graded" and (out / "good" / "grading.log").is_file()
    assert not (out / "locked" / "grading.log").exists()  # no grading process ran
    assert [r.part for r in locked.results] == ["1a", "1b", "2a", "2b", "2c"]  # --problems kept
    assert {r.status for r in locked.results} == {"malformed"} and locked.total == 0
    assert all("'a' is encrypted" in r.message for r in locked.results)
    assert [o.kind for o in locked.observations] == ["upload-refused"]
    assert "is encrypted" in (out / "locked" / "report.html").read_text()
    intake = json.loads((out / "intake.json").read_text())
    assert list(intake["refused"]) == ["locked"]
    with (out / "grades.csv").open() as handle:
        assert sorted(row["student"] for row in csv.DictReader(handle)) == ["good", "locked"]


def test_a_folder_name_that_is_not_utf8_is_graded_and_kept_losslessly(tmp_path, checks, capsys):
    root = tmp_path / "class"
    for name in (NOT_UTF8, "plain"):
        (root / name).mkdir(parents=True)
        (root / name / "notes.txt").write_text("junk only\n")
    out = tmp_path / "out"
    assert _grade(root, out, checks) == 0
    assert grade_in(out, NOT_UTF8).student == NOT_UTF8  # the very bytes of the folder's name
    assert os.fsencode(NOT_UTF8) in os.listdir(os.fsencode(out))
    shown = "caf\\xe9-m\\xfcller"
    assert shown in (out / "grades.csv").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "caf%E9-m%FCller/report.html" in index and shown in index
    assert shown in capsys.readouterr().out
    assert _grade(root, out, checks) == 0  # the rerun finds the record under the same name
    assert "already graded" in capsys.readouterr().out


def test_files_that_cannot_be_written_cost_their_student_only(tmp_path, checks):
    root = tmp_path / "class"
    for name in ("alice", "bob"):
        (root / name).mkdir(parents=True)
        (root / name / "notes.txt").write_text("junk only\n")
    out = tmp_path / "out"
    (out / "alice" / "report.html").mkdir(parents=True)  # a folder where a file must go
    outcome = grade_class(
        root, out, GradeOptions(checks_dir=checks), jobs=1, progress=False, launcher="fresh"
    )
    alice, bob = grade_in(out, "alice"), grade_in(out, "bob")
    assert alice.status == "error" and "IsADirectoryError" in alice.observations[0].message
    assert bob.status == "graded" and (out / "bob" / "report.html").is_file()
    assert sorted(r.student for r in outcome.records) == ["alice", "bob"]
    assert (out / "grades.csv").is_file() and (out / "index.html").is_file()
