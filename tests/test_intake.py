"""Reading a class as LMSs export it: layouts detected, files regrouped, identities kept, nothing lost."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from lms_layouts import (
    Student,
    canvas_name,
    canvas_zip,
    classroom_clones,
    gradescope_export,
    zip_folder,
)

from dlgrade.intake import IntakeError, read_class
from dlgrade.lms.canvas import CanvasExportError, gradebook_csv
from dlgrade.lms.gradescope import manual_scores_rows, results_json, results_problems
from dlgrade.records import CheckResult, GradeRecord, Identity
from reports.summaries import grades_frame

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"


@pytest.fixture
def students() -> list[Student]:
    return [
        Student(EXAMPLES / "fall2023-full-marks", "Ada Lovelace", "ada@uni.edu", "1815", "501", "ada-l"),
        Student(EXAMPLES / "fall2023-wrong-theory", "Alan Turing", "alan@uni.edu", "1912", "502", "aturing"),
    ]  # fmt: skip


def _names(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_a_plain_class_folder_reads_as_before_and_lists_loose_files(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(EXAMPLES / "fall2023-full-marks", root / "ada")
    (root / "_template").mkdir()
    (root / "notes.txt").write_text("the TA's notes\n")
    intake = read_class(root, tmp_path / "work")
    assert intake.layout == "folders"
    assert intake.folders() == {"ada": root / "ada"}
    assert intake.unassigned == ("notes.txt",)


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_gradescope_export_takes_names_and_emails_from_the_metadata(tmp_path, students, zipped):
    export = gradescope_export(students, tmp_path / "download", stray="README.txt")
    source = zip_folder(export, tmp_path / "export.zip", inside=export.name) if zipped else export
    intake = read_class(source, tmp_path / "work")
    assert intake.layout == "gradescope"
    assert sorted(intake.hand_ins) == ["ada-lovelace", "alan-turing"]
    ada = intake.hand_ins["ada-lovelace"]
    assert ada.identities == (Identity("1815", "Ada Lovelace", "ada@uni.edu", "gradescope"),)
    assert _names(ada.folder) == _names(students[0].folder)  # the student's own file names
    assert intake.unassigned == ("README.txt",)


def test_a_gradescope_folder_without_metadata_is_graded_and_noted(tmp_path, students):
    export = gradescope_export(students, tmp_path)
    shutil.copytree(students[0].folder, export / "submission_90777")
    intake = read_class(export, tmp_path / "work")
    assert intake.hand_ins["submission_90777"].identities == ()
    assert any("submission_90777: no submitters" in note for note in intake.notes)


def test_a_canvas_zip_is_grouped_per_student_under_the_original_names(tmp_path, students):
    archive = canvas_zip(students, tmp_path / "submissions.zip", late=("502",))
    intake = read_class(archive, tmp_path / "work")
    assert intake.layout == "canvas"
    assert sorted(intake.hand_ins) == [canvas_name(s) for s in students]
    for student in students:
        hand_in = intake.hand_ins[canvas_name(student)]
        assert _names(hand_in.folder) == _names(student.folder)  # prefixes stripped
        assert hand_in.identities[0].id == student.canvas_id
    assert not intake.hand_ins["lovelaceada"].late and intake.hand_ins["turingalan"].late
    assert intake.unassigned == ("grading-notes.txt",)


def test_canvas_never_drops_a_file_and_unpacks_an_uploaded_zip(tmp_path):
    download = tmp_path / "download"
    download.mkdir()
    inner = tmp_path / "hw1.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.write(EXAMPLES / "fall2023-full-marks" / "HW1P3.ipynb", "hw1/HW1P3.ipynb")
    shutil.copy(inner, download / "lovelaceada_501_1_hw1.zip")
    # Two attachments with the same original name (a resubmission): both kept.
    (download / "lovelaceada_501_2_notes.txt").write_text("first\n")
    (download / "lovelaceada_501_3_notes.txt").write_text("second\n")
    (download / "lovelaceada_LATE_501_text.html").write_text("<p>my answer</p>\n")
    (download / "stray.pdf").write_bytes(b"%PDF-1.4\n")
    (download / "sub").mkdir()
    (download / "sub" / "x.txt").write_text("in a folder: not a Canvas file\n")
    intake = read_class(download, tmp_path / "work")
    ada = intake.hand_ins["lovelaceada"]
    assert _names(ada.folder) == {"hw1/hw1/HW1P3.ipynb", "notes.txt", "notes (2).txt", "text.html"}
    assert {(ada.folder / n).read_text() for n in ("notes.txt", "notes (2).txt")} == {
        "first\n",
        "second\n",
    }
    assert ada.late
    assert intake.unassigned == ("stray.pdf", "sub/x.txt")


def test_github_classroom_clones_are_named_by_username(tmp_path, students):
    root = classroom_clones(students, tmp_path)
    (root / "classroom_roster.csv").write_text(
        "identifier,github_username,github_id,name\nada@uni.edu,ada-l,1,Ada Lovelace\n"
    )
    (root / "feedback.md").write_text("not a repository\n")
    intake = read_class(root, tmp_path / "work")
    assert intake.layout == "classroom"
    assert sorted(intake.hand_ins) == ["ada-l", "aturing"]  # the hyphen in ada-l survives
    assert intake.hand_ins["ada-l"].identities == (
        Identity("ada-l", "Ada Lovelace", "ada@uni.edu", "classroom"),
    )
    assert intake.hand_ins["aturing"].identities == (Identity("aturing", lms="classroom"),)
    assert intake.unassigned == ("feedback.md",)


def _hyphen_twins(students: list[Student]) -> list[Student]:
    """Two students whose usernames share the start 'ada-', so all repositories share 'hw1-ada-'."""
    ada, alan = students
    return [ada, Student(alan.folder, alan.name, alan.email, alan.sid, alan.canvas_id, "ada-b")]


def test_classroom_usernames_sharing_a_hyphenated_start_survive_by_the_clone_folder(
    tmp_path, students
):
    root = classroom_clones(_hyphen_twins(students), tmp_path)  # hw1-submissions/
    intake = read_class(root, tmp_path / "work")
    assert sorted(intake.hand_ins) == ["ada-b", "ada-l"]


def test_classroom_usernames_sharing_a_hyphenated_start_survive_by_the_roster(tmp_path, students):
    root = classroom_clones(_hyphen_twins(students), tmp_path, assignment="dl-hw1")
    root = root.rename(tmp_path / "class")  # no '<assignment>-submissions' name to go by
    (root / "classroom_roster.csv").write_text(
        "identifier,github_username,github_id,name\n"
        "ada@uni.edu,ada-l,1,Ada Lovelace\nalan@uni.edu,ada-b,2,Alan Turing\n"
    )
    intake = read_class(root, tmp_path / "work")
    assert sorted(intake.hand_ins) == ["ada-b", "ada-l"]
    assert intake.hand_ins["ada-b"].identities[0].name == "Alan Turing"


def test_input_matching_no_layout_names_what_was_expected(tmp_path):
    root = tmp_path / "scans"
    root.mkdir()
    for name in ("a.pdf", "b.pdf"):
        (root / name).write_bytes(b"%PDF")
    with pytest.raises(IntakeError) as caught:
        read_class(root, tmp_path / "work")
    message = str(caught.value)
    assert "matches no layout" in message and "2 file(s) (a.pdf, b.pdf) and no folders" in message
    for expected in (
        "one sub-folder per student",
        "submission_metadata.yml",
        "<userid>",
        "<username>",
    ):
        assert expected in message


def test_a_forced_layout_that_does_not_fit_says_what_it_expects(tmp_path, students):
    root = tmp_path / "class"
    shutil.copytree(students[0].folder, root / "ada")
    with pytest.raises(IntakeError, match="--layout canvas expects: a Canvas download"):
        read_class(root, tmp_path / "work", layout="canvas")


def test_other_files_and_hostile_zips_are_refused(tmp_path):
    text = tmp_path / "class.txt"
    text.write_text("hello")
    with pytest.raises(IntakeError, match="not a zip"):
        read_class(text, tmp_path / "work")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.txt", "escape")
    with pytest.raises(IntakeError, match="outside the archive"):
        read_class(evil, tmp_path / "work")
    assert not (tmp_path / "outside.txt").exists()


def _record(student: str, points: float, people: tuple[Identity, ...], **extra) -> GradeRecord:
    results = [
        CheckResult("1a", "Gradient", points, 4.0, "passed" if points == 4 else "failed", "msg"),
        CheckResult("2c", "Reflection", 0.0, 4.0, "manual", "awaiting TA review"),
    ]
    return GradeRecord(student, "fall2023", results, identities=list(people), **extra)


def test_grades_csv_gains_identity_columns_after_the_old_ones():
    people = (Identity("501", "lovelaceada", "", "canvas"),)
    frame = grades_frame([_record("lovelaceada", 4.0, people, late=True), _record("bob", 0.0, ())])
    assert list(frame.columns[:3]) == ["student", "1a", "2c"]
    assert list(frame.columns[-4:]) == ["id", "name", "email", "late"]
    row = frame.set_index("student").loc["lovelaceada"]
    assert (row["id"], row["name"], bool(row["late"])) == ("501", "lovelaceada", True)
    plain = grades_frame([_record("bob", 0.0, ())])
    assert "email" not in plain.columns  # no LMS identities: the columns are unchanged


def test_canvas_gradebook_csv_matches_students_and_refuses_bad_column_names(tmp_path):
    records = [
        _record("ada", 4.0, (Identity("1815", "Ada Lovelace", "ada@uni.edu", "gradescope"),)),
        _record("zed", 0.0, (Identity("9", "Zed Nobody", "zed@uni.edu", "gradescope"),)),
        GradeRecord("broken", "", [], status="error"),
    ]
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1 (123)\n"
        "    Points Possible,,,,,100\n"
        '"Lovelace, Ada",501,1815,ada,Sec 1,\n'
        '"Turing, Alan",502,1912,alan,Sec 1,\n'
    )
    table = gradebook_csv(records, "HW1 (123)", gradebook)
    assert table.rows == [
        {
            "Student": "Lovelace, Ada",
            "ID": "501",
            "SIS User ID": "1815",
            "SIS Login ID": "ada",
            "Section": "Sec 1",
            "HW1 (123)": "4",
        }
    ]
    warnings = "\n".join(table.warnings)
    assert "zed: 'Zed Nobody' is not in the Canvas gradebook" in warnings
    assert "broken: grading error" in warnings and "2c await TA review" in warnings
    with pytest.raises(CanvasExportError, match="Title \\(id\\)"):
        gradebook_csv(records, "HW1", None)


def test_gradescope_upload_csv_has_one_row_per_group_member():
    group = (
        Identity("1815", "Ada Lovelace", "ada@uni.edu", "gradescope"),
        Identity("1912", "Alan Turing", "alan@uni.edu", "gradescope"),
    )
    rows, warnings = manual_scores_rows([_record("ada", 4.0, group), _record("anon", 0.0, ())])
    assert rows == [
        {"Name": "Ada Lovelace", "Email": "ada@uni.edu", "SID": "1815", "Total Score": "4"},
        {"Name": "Alan Turing", "Email": "alan@uni.edu", "SID": "1912", "Total Score": "4"},
        {"Name": "anon", "Email": "", "SID": "", "Total Score": "0"},
    ]
    assert any("anon: no email or SID" in w for w in warnings)


def test_results_json_follows_the_specification_and_the_validator_catches_breaks():
    record = _record("ada", 4.0, ())
    data = results_json(record)
    assert results_problems(data) == []
    manual = data["tests"][1]
    assert manual["score"] == 0 and "awaiting TA review" in manual["name"]
    assert manual["output"].startswith("Awaiting review")
    # Pending review is neither passed nor failed: no status and no max_score to fail against.
    assert "status" not in manual and "max_score" not in manual
    broken = {**data, "tests": [{**data["tests"][0], "status": "ok", "score": "4"}], "colour": 1}
    problems = "\n".join(results_problems(broken))
    assert "unknown top-level key 'colour'" in problems
    assert "tests[0]: score must be a number" in problems
    assert "tests[0]: status must be one of" in problems
    assert results_problems({"tests": [{"name": "x"}]})  # missing score, output, ...


def test_export_commands_write_csv_files(tmp_path, capsys):
    from dlgrade.cli import main
    from dlgrade.grading.outputs import write_student_outputs

    out = tmp_path / "out"
    write_student_outputs(out, _record("ada", 4.0, (Identity("501", "lovelaceada", "", "canvas"),)))
    assert main(["export", "canvas", str(out), "--assignment-column", "HW1 (77)"]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "canvas-import.csv").read_text())))
    assert rows == [
        {"Student": "lovelaceada", "ID": "501", "SIS User ID": "", "SIS Login ID": "",
         "Section": "", "HW1 (77)": "4"}
    ]  # fmt: skip
    target = tmp_path / "gs.csv"
    assert main(["export", "gradescope-manual", str(out), "-o", str(target)]) == 0
    assert target.read_text().splitlines()[0] == "Name,Email,SID,Total Score"
    assert main(["export", "gradescope-manual", str(tmp_path / "nope")]) == 2
    assert "not an output folder" in capsys.readouterr().err
