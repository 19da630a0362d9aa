"""Notebooks the tests write: cells as a student saved them, and the .ipynb file.

Not collected by pytest (no `test_` prefix); test modules import it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode


def code_cell(source: str, *outputs: dict) -> NotebookNode:
    """A code cell with the outputs the student saved, each given as `new_output`'s arguments."""
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output(**output) for output in outputs]
    return cell


def write_notebook(path: Path, *cells: str | NotebookNode) -> Path:
    """Write a notebook of `cells` to `path`, folders and all; a string is a code cell of that
    source."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nodes = [nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells]
    nbformat.write(nbformat.v4.new_notebook(cells=nodes), path)
    return path
