"""Names, declared operations and cell helpers shared by the example sources."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
STARTER = REPO / "reference" / "starter" / "hw1_prob5_starter.ipynb"

FULL = "fall2023-full-marks"
SPRING = "spring2023-full-marks"
P3, P4, P5 = "HW1P3.ipynb", "hw1p4.ipynb", "dlf23_hw1_prob5.ipynb"
SPRING_P4, SPRING_P5 = "hw1p4.ipynb", "hw1p5.ipynb"

METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


class BuildError(Exception):
    """A declared edit does not fit its source (snippet missing or ambiguous)."""


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Edit:
    """Replace `old` by `new` in the cell sources of `file`; `old` must occur exactly once."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Truncate:
    """Cut the serialized `file` right after `after` (which must occur exactly once)."""

    file: str
    after: str


@dataclass(frozen=True)
class UseStarter:
    """Replace `file` by the untouched problem-5 starter notebook."""

    file: str


Operation = Edit | Truncate | UseStarter


def md(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = new_markdown_cell(source)
    cell["id"] = cell_id
    return cell


def code(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell["id"] = cell_id
    return cell


def notebook(cells: Sequence[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells), metadata=copy.deepcopy(METADATA))


def apply_edit(nb: nbformat.NotebookNode, edit: Edit, where: str) -> nbformat.NotebookNode:
    """A copy of `nb` with `edit` applied; BuildError unless `edit.old` occurs exactly once."""
    if edit.old == edit.new:
        raise BuildError(f"{where}: edit to {edit.file} changes nothing: {edit.old!r}")
    hits = [i for i, c in enumerate(nb.cells) for _ in range(c.source.count(edit.old))]
    if len(hits) != 1:
        raise BuildError(
            f"{where}: snippet must occur exactly once in {edit.file}, found {len(hits)} "
            f"times: {edit.old!r}"
        )
    out = copy.deepcopy(nb)
    cell = out.cells[hits[0]]
    cell.source = cell.source.replace(edit.old, edit.new)
    return out


def serialize(nb: nbformat.NotebookNode) -> str:
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def load_starter() -> nbformat.NotebookNode:
    """The starter as students receive it, with any outputs stripped."""
    nb = nbformat.read(STARTER, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def fill(nb: nbformat.NotebookNode, edits: Sequence[Edit], where: str) -> nbformat.NotebookNode:
    for edit in edits:
        nb = apply_edit(nb, edit, where)
    return nb
