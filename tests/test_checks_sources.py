"""Choosing which file to grade when several hold one problem (checks.sources)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from checks.sources import choose
from dlgrade.engine import discover

STARTER = Path(__file__).resolve().parents[1] / "reference" / "starter" / "hw1_prob5_starter.ipynb"


def solved_starter(path: Path, *, outputs: bool = False, broken: str = "") -> None:
    notebook = nbformat.read(STARTER, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.endswith("weights = \nbiases = "):
            cell.source += "[]"
            cell.source = cell.source.replace("weights = \n", "weights = []\n")
        if cell.cell_type == "code" and "def train_one_sample" in cell.source:
            cell.source += "\n    weights[0] -= 0.0" + broken
        if outputs and cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    nbformat.write(notebook, path)


def test_the_unmodified_starter_is_set_aside_even_when_it_sorts_first(tmp_path):
    shutil.copy(STARTER, tmp_path / "HW1_prob5_starter.ipynb")
    solved_starter(tmp_path / "hw1_prob5.ipynb")
    submission = discover(tmp_path)
    choice = choose("p5", list(submission.for_problem("p5")))
    assert choice.chosen.path.name == "hw1_prob5.ipynb"
    assert "HW1_prob5_starter.ipynb is the unmodified starter" in choice.note


def test_a_draft_that_does_not_parse_loses_to_the_final_version(tmp_path):
    solved_starter(tmp_path / "a_final.ipynb")
    solved_starter(tmp_path / "b_draft.ipynb", broken="\n  oops(")
    submission = discover(tmp_path)
    choice = choose("p5", list(submission.for_problem("p5")))
    assert choice.chosen.path.name == "a_final.ipynb"
    assert "b_draft.ipynb defines less of the required interface" in choice.note


def test_a_notebook_that_was_run_wins_over_one_that_was_not(tmp_path):
    solved_starter(tmp_path / "a_copy.ipynb")
    solved_starter(tmp_path / "b_submitted.ipynb", outputs=True)
    submission = discover(tmp_path)
    choice = choose("p5", list(submission.for_problem("p5")))
    assert choice.chosen.path.name == "b_submitted.ipynb"
    assert "a_copy.ipynb was never run (no outputs)" in choice.note


def test_one_file_is_chosen_without_a_note(tmp_path):
    solved_starter(tmp_path / "hw.ipynb")
    choice = choose("p5", list(discover(tmp_path).for_problem("p5")))
    assert choice.chosen.path.name == "hw.ipynb" and choice.note == ""


def test_a_draft_as_complete_as_the_final_loses_although_it_sorts_first(tmp_path):
    solved_starter(tmp_path / "hw1_prob5_draft.ipynb")
    solved_starter(tmp_path / "hw1_prob5_final.ipynb")
    choice = choose("p5", list(discover(tmp_path).for_problem("p5")))
    assert choice.chosen.path.name == "hw1_prob5_final.ipynb"
    assert (
        "hw1_prob5_draft.ipynb is no more complete and its name does not say final" in choice.note
    )


def test_a_copy_loses_a_tie_to_a_plain_name(tmp_path):
    solved_starter(tmp_path / "a - Copy.ipynb")
    solved_starter(tmp_path / "b.ipynb")
    choice = choose("p5", list(discover(tmp_path).for_problem("p5")))
    assert choice.chosen.path.name == "b.ipynb"


def test_a_name_never_outweighs_completeness(tmp_path):
    solved_starter(tmp_path / "hw_draft.ipynb", outputs=True)
    solved_starter(tmp_path / "hw_final.ipynb")
    choice = choose("p5", list(discover(tmp_path).for_problem("p5")))
    assert choice.chosen.path.name == "hw_draft.ipynb"
