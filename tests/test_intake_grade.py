"""`dlgrade grade` on LMS exports built from the shipped examples gives the plain layout's grades.

Two students: `fall2023-misread-dataset2` (its problem-3 notebook really runs
in the sandbox and loses 3a-2) and `fall2023-wrong-theory` (answers.toml only,
losing theory points). Problems 1-3 in quick mode keep it to one notebook
run per layout.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from lms_layouts import (
    Student,
    canvas_resubmissions,
    canvas_zip,
    classroom_clones,
    gradescope_export,
    zip_folder,
)

from dlgrade.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
STUDENTS = [
    Student(EXAMPLES / "fall2023-misread-dataset2", "Ada Lovelace", "ada@uni.edu", "1815", "501", "ada-l"),
    Student(EXAMPLES / "fall2023-wrong-theory", "Alan Turing", "alan@uni.edu", "1912", "502", "aturing"),
]  # fmt: skip
PARTS = ("1a", "1b", "2a", "2b", "3a-1", "3a-2", "3b", "3c", "3d")

pytestmark = pytest.mark.slow


def _grade(source: Path, out: Path) -> dict[str, dict]:
    argv = ["grade", str(source), "--out", str(out), "--quick", "--problems", "1,2,3"]
    assert main([*argv, "--no-similarity", "--no-progress", "--jobs", "2"]) == 0
    with (out / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("lms")
    plain = tmp / "plain"
    for key, student in zip(("ada", "alan"), STUDENTS, strict=True):
        shutil.copytree(student.folder, plain / key)
    export = gradescope_export(STUDENTS, tmp / "gradescope", stray="README.txt")
    return {
        "plain": plain,
        "gradescope": zip_folder(export, tmp / "gradescope.zip", inside=export.name),
        "canvas": canvas_zip(STUDENTS, tmp / "canvas.zip", late=("502",)),
        "classroom": classroom_clones(STUDENTS, tmp),
        # Each student first handed in the full-marks example, then their own files:
        # graded like the plain layout only if the newest hand-in wins.
        "canvas-resubmitted": canvas_resubmissions(
            STUDENTS, EXAMPLES / "fall2023-full-marks", tmp / "resubmitted.zip"
        ),
    }


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def grades(built, out) -> dict[str, dict[str, dict]]:
    return {layout: _grade(source, out / layout) for layout, source in built.items()}


KEYS = {
    "gradescope": ("ada-lovelace", "alan-turing"),
    "canvas": ("lovelaceada", "turingalan"),
    "canvas-resubmitted": ("lovelaceada", "turingalan"),
    "classroom": ("ada-l", "aturing"),
}


def test_the_plain_layout_grades_what_the_examples_promise(grades):
    ada, alan = grades["plain"]["ada"], grades["plain"]["alan"]
    assert float(ada["3a-1"]) == 4 and float(ada["3a-2"]) == 0  # dataset 2 misread
    assert float(alan["1a"]) == 0 and float(alan["3a-1"]) == 0  # wrong theory, no notebook


@pytest.mark.parametrize("layout", ["gradescope", "canvas", "classroom", "canvas-resubmitted"])
def test_each_lms_layout_gives_the_same_grades_as_the_plain_layout(grades, layout):
    rows = grades[layout]
    assert sorted(rows) == sorted(KEYS[layout])
    for key, plain_key in zip(KEYS[layout], ("ada", "alan"), strict=True):
        mine, plain = rows[key], grades["plain"][plain_key]
        assert {p: mine[p] for p in PARTS} == {p: plain[p] for p in PARTS}, key
        assert mine["total"] == plain["total"]


def test_identities_reach_grades_csv(grades):
    ada = grades["gradescope"]["ada-lovelace"]
    assert (ada["id"], ada["name"], ada["email"]) == ("1815", "Ada Lovelace", "ada@uni.edu")
    assert grades["canvas"]["turingalan"]["id"] == "502"
    assert grades["canvas"]["turingalan"]["late"] == "True"
    assert "email" not in grades["plain"]["ada"]  # a plain class keeps the old columns


def test_unassigned_files_are_listed_in_the_class_report(grades, out):
    index = (out / "gradescope" / "index.html").read_text()
    assert "README.txt" in index and "belong to no submission" in index
    assert "grading-notes.txt" in (out / "canvas" / "index.html").read_text()


def test_canvas_export_of_a_graded_canvas_download(grades, out):
    assert main(["export", "canvas", str(out / "canvas"), "--assignment-column", "HW1 (123)"]) == 0
    with (out / "canvas" / "canvas-import.csv").open() as handle:
        rows = {row["ID"]: row for row in csv.DictReader(handle)}
    plain = grades["plain"]
    assert rows["501"]["HW1 (123)"] == f"{float(plain['ada']['total']):g}"
    assert rows["502"]["HW1 (123)"] == f"{float(plain['alan']['total']):g}"


def test_the_record_names_the_resubmission_graded_and_the_files_set_aside(grades, out):
    record = json.loads((out / "canvas-resubmitted" / "lovelaceada" / "grade.json").read_text())
    chosen = {
        o["source"]: o["message"] for o in record["observations"] if o["kind"] == "source-chosen"
    }
    assert chosen["answers.toml"] == (
        "graded answers-1.toml; set aside: answers.toml is an older hand-in "
        "(the LMS numbers each new one)"
    )
    assert chosen["HW1P3-1.ipynb"] == (
        "graded HW1P3-1.ipynb; set aside: HW1P3.ipynb is an older hand-in of HW1P3-1.ipynb "
        "(the LMS numbers each new one)"
    )
