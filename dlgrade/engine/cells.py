"""Root causes: which cell was meant to define a name, and why it did not.

When a check finds `feed_forward_sample` missing, the useful message names the
cell that defines it and what happened to that cell ("cell 12 raised
ModuleNotFoundError: ..."), not just "not defined".
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path

from dlgrade.engine.notebooks import MalformedSource, load_notebook
from dlgrade.engine.records import CellResult, NotebookRun


def binds(source: str, name: str) -> bool:
    """Whether code `source` defines `name` at top level (def, class, assignment, import, loop)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # The cell cannot run anyway; a textual match still tells which cell was meant to.
        pattern = rf"^\s*(def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*(\[.*\])?\s*="
        return re.search(pattern, source, re.MULTILINE) is not None
    return any(name in _bound_names(node) for node in tree.body)


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
        targets = [node.target]
    names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                names |= _bound_names(child)
    return names


def describe_cell(cell: CellResult) -> str:
    """'cell 12 (`first line`)', numbered from 1 as a person counts cells."""
    first = f" (`{cell.first_line}`)" if cell.first_line else ""
    return f"cell {cell.index + 1}{first}"


def cell_problem(cell: CellResult, cells: Sequence[CellResult] = ()) -> str | None:
    """What went wrong with a cell, or None when it ran cleanly.

    `cells`: the run's cells, so that a cell never run names the cell where
    execution stopped (a failing cell does not stop it; a dead kernel or a
    time limit does).
    """
    if cell.status == "ok":
        return None
    if cell.status == "skipped":
        stop = next(
            (
                c
                for c in reversed(cells)
                if c.index < cell.index and c.status not in ("ok", "skipped")
            ),
            None,
        )
        if stop is None:
            return f"{describe_cell(cell)} was not run (execution had stopped earlier)"
        return f"{describe_cell(cell)} was not run: execution stopped after {cell_problem(stop)}"
    if cell.status == "timeout":
        return f"{describe_cell(cell)} was interrupted after {cell.duration_s:.0f} s (time limit)"
    value = f": {cell.error_value}" if cell.error_value else ""
    return f"{describe_cell(cell)} raised {cell.error_name}{value[:300]}"


def why_undefined(run: NotebookRun, name: str) -> str:
    """Why `name` is not defined after `run`, as a clause to follow "because"."""
    try:
        notebook = load_notebook(Path(run.source.path))
    except (MalformedSource, OSError):
        return "the notebook could not be read again"
    results = {cell.index: cell for cell in run.cells}
    meant = [
        results[index]
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and index in results and binds(cell.source, name)
    ]
    for cell in meant:
        problem = cell_problem(cell, run.cells)
        if problem is not None:
            return problem
    if meant:
        return f"{describe_cell(meant[-1])} ran, but did not leave `{name}` defined"
    failed = [p for p in (cell_problem(c, run.cells) for c in run.cells) if p]
    if failed:
        return f"no cell defines it; {failed[0]}"
    return "no cell of the notebook defines it"
