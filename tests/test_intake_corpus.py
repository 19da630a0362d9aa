"""A corpus (a class folder with EXPECTED.toml) read as a class: its own files are not strays.

`dlgrade grade submissions/field` (or `dlgrade verify`) used to list the
corpus's README.md and EXPECTED.toml as "files belonging to no student". The
intake now names them as the corpus's files, in a note, and keeps listing
every other loose file.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from dlgrade.cli import main
from dlgrade.intake import read_class

REPO = Path(__file__).resolve().parents[1]
FIELD = REPO / "submissions" / "field"
EXAMPLES = REPO / "submissions" / "examples"


def test_the_field_corpus_reads_as_its_submissions_and_nothing_stray(tmp_path):
    intake = read_class(FIELD, tmp_path / "work")
    expected = tomllib.loads((FIELD / "EXPECTED.toml").read_text("utf-8"))
    assert intake.layout == "folders"
    assert sorted(intake.hand_ins) == sorted(expected)  # every folder is a row, and only those
    assert intake.unassigned == ()
    assert intake.notes == (
        "corpus files beside the submissions, not graded: EXPECTED.toml, README.md",
    )


def _class(root: Path, *loose: str) -> Path:
    (root / "ada").mkdir(parents=True)
    (root / "ada" / "answers.toml").write_text("[1]\n")
    for name in loose:
        (root / name).write_text("not a hand-in\n")
    return root


def test_a_readme_is_the_corpus_s_only_beside_expected_verdicts(tmp_path):
    plain = read_class(_class(tmp_path / "plain", "README.md", "notes.txt"), tmp_path / "w1")
    assert plain.unassigned == ("README.md", "notes.txt")  # a class without expectations
    assert plain.notes == ()
    root = _class(tmp_path / "corpus", "README.md", "readme.txt", "EXPECTED.toml", "bob.ipynb")
    corpus = read_class(root, tmp_path / "w2")
    assert corpus.unassigned == ("bob.ipynb",)  # a loose notebook is still somebody's
    assert corpus.notes == (
        "corpus files beside the submissions, not graded: EXPECTED.toml, README.md, readme.txt",
    )


@pytest.mark.slow
def test_grading_a_corpus_as_a_class_flags_no_stray_file(tmp_path, capsys):
    root = tmp_path / "corpus"
    shutil.copytree(EXAMPLES / "fall2023-wrong-theory", root / "alan")  # answers.toml only
    shutil.copy(FIELD / "README.md", root / "README.md")
    (root / "EXPECTED.toml").write_text('[alan]\nassignment = "fall2023"\nwhy = "theory"\n')
    out = tmp_path / "out"
    argv = ["grade", str(root), "--out", str(out), "--quick", "--problems", "1,2"]
    assert main([*argv, "--no-similarity", "--no-progress", "--jobs", "1"]) == 0
    said = capsys.readouterr().out
    assert "to look at:" in said and "belonging to no student" not in said
    intake = json.loads((out / "intake.json").read_text())
    assert intake["unassigned"] == []
    assert intake["notes"] == [
        "corpus files beside the submissions, not graded: EXPECTED.toml, README.md"
    ]
    index = (out / "index.html").read_text()
    assert "belong to no submission" not in index and "corpus files beside" in index
