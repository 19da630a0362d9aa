"""Loading notebooks and .py files into nbformat v4 notebooks, strictly.

A file that cannot be read as a v4 notebook raises `MalformedSource` with a
message a student can act on; missing outputs are filled in, not an error.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from dlgrade.deep_json import collector_paused
from dlgrade.engine.paths import LinkRefused, read_regular

# Students hand in notebooks, not data sets: anything bigger is refused unread.
MAX_SOURCE_BYTES = 50 << 20
# Cell boundaries in scripts: `# %%` (Jupytext, VS Code, Spyder) and the
# `# In[12]:` lines `jupyter nbconvert --to script` writes.
# A script without markers runs one top-level statement per cell, up to this many cells.
MAX_SCRIPT_CELLS = 400
_CELL_MARKER = re.compile(r"^(?:# ?%%.*|#\s*In\s*\[[\s\d]*\]\s*:?\s*)$", re.MULTILINE)


class MalformedSource(ValueError):
    """The file is not a readable notebook / Python source."""


def read_text(path: Path) -> str:
    """The file's text as UTF-8, or MalformedSource saying why not.

    Discovery already refused links; opening without following one closes the
    window in which a link could be swapped in before a later read.
    """
    try:
        data = read_regular(path, limit=MAX_SOURCE_BYTES)
    except LinkRefused as err:
        raise MalformedSource(str(err)) from None
    except ValueError:
        raise MalformedSource(
            f"{path.name} is {path.stat().st_size} bytes; a notebook over {MAX_SOURCE_BYTES} "
            "is refused"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MalformedSource(
            f"{path.name} is not UTF-8 (byte {err.start}): re-save it from Jupyter"
        ) from None


def load_notebook(path: Path) -> NotebookNode:
    """Load `path` (.ipynb or .py) as an nbformat v4 notebook."""
    text = read_text(path)
    if path.suffix == ".py":
        return notebook_from_python(text)
    return notebook_from_json(text, path.name)


def notebook_from_python(text: str) -> NotebookNode:
    """A notebook of the marked cells of a script; without markers, one cell per statement.

    A script without markers is still graded as a notebook would be: each
    top-level statement is a cell, so one failing line costs only what depends
    on it, and values are seen between statements (the weights before training).
    """
    marked = _CELL_MARKER.search(text) is not None
    parts = _CELL_MARKER.split(text) if marked else statement_sources(text)
    cells = [nbformat.v4.new_code_cell(part.strip("\n")) for part in parts if part.strip()]
    return nbformat.v4.new_notebook(cells=cells)


def statement_sources(text: str) -> list[str]:
    """The script cut before each top-level statement (its comments and decorators with it).

    Statements sharing a line (`a = 1; b = 2`) stay together. A script that does
    not parse stays whole: Python would run none of it either.
    """
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return [text]
    lines = text.splitlines(keepends=True)
    starts: list[int] = []  # 0-based first line of each cell
    end = 0  # 0-based line after the last statement seen
    for node in body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))]) - 1
        if first >= end:
            starts.append(_comments_above(lines, first, end))
        end = max(end, node.end_lineno or node.lineno)
    if not starts:
        return [text]
    # Each cell costs a kernel round trip and the watches (tens of ms): a script of
    # thousands of statements runs as at most MAX_SCRIPT_CELLS runs of consecutive ones.
    starts = starts[:: -(-len(starts) // MAX_SCRIPT_CELLS)]
    bounds = [0, *starts[1:], len(lines)]  # what precedes the first statement joins it
    return ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def _comments_above(lines: list[str], start: int, floor: int) -> int:
    """`start` moved up over the comment lines right above it, not into line `floor`'s code."""
    while start - 1 >= floor and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def notebook_from_json(text: str, name: str) -> NotebookNode:
    try:
        with collector_paused():
            return _notebook_from_json(text, name)
    except RecursionError:
        # Python's reader recurses once per nesting level (json, then nbformat);
        # a file nested past the interpreter's limit is unreadable, not a grader bug.
        raise MalformedSource(
            f"{name} is nested too deeply to read: its JSON goes deeper than the reader's "
            f"limit (Python's recursion limit, {sys.getrecursionlimit()} levels); clear its "
            "outputs and re-save it from Jupyter"
        ) from None


def _notebook_from_json(text: str, name: str) -> NotebookNode:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise MalformedSource(
            f"{name} is not valid notebook JSON (line {err.lineno}: {err.msg})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise MalformedSource(f"{name} has no 'cells' list: it is not a Jupyter notebook")
    major = data.get("nbformat")
    if major != 4:
        raise MalformedSource(
            f"{name} is nbformat {major}; only version 4 is accepted (open and re-save it in Jupyter)"
        )
    cells = [_normalise_cell(cell, index, name) for index, cell in enumerate(data["cells"])]
    return nbformat.v4.new_notebook(cells=cells, metadata=data.get("metadata") or {})


def _normalise_cell(cell: object, index: int, name: str) -> NotebookNode:
    if not isinstance(cell, dict):
        raise MalformedSource(f"{name}: cell {index + 1} is not an object")
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise MalformedSource(f"{name}: cell {index + 1} has a source that is not text")
    kind = cell.get("cell_type")
    if kind == "code":
        return nbformat.v4.new_code_cell(source)
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(source)
    if kind == "raw":
        return nbformat.v4.new_raw_cell(source)
    raise MalformedSource(f"{name}: cell {index + 1} has unknown cell_type {kind!r}")


def code_text(notebook: NotebookNode) -> str:
    """All code cells joined, for content tagging."""
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
