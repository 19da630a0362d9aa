"""What the TA needs to grade the problem-4 comment: the comment itself and the figures.

The comment is the markdown that follows the last problem-4 figure (students
comment right under their plots), else the last problem-4 markdown cell that
speaks of the results; never the notebook's introduction. The figures are the
small PNGs the recorder kept of the problem's figures.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

from checks.p4_figures import unique_figures
from dlgrade.engine import FigureRecord, NotebookRun
from dlgrade.engine.notebooks import MalformedSource, load_notebook
from dlgrade.engine.sections import cell_sections

MAX_COMMENT_CHARS = 5000
MAX_FIGURES = 6
MAX_FIGURE_BYTES = 400_000  # all PNGs of one part together: the grade record stays small
PNG_PREFIX = "data:image/png;base64,"
RESULTS = re.compile(
    r"accura|loss|predict|probab|confiden|overfit|misclass|correct|epoch|\d\s?%|shirt|"
    r"pullover|coat|sneaker|boot|trouser|dress|sandal|bag",
    re.IGNORECASE,
)


def problem_cells(run: NotebookRun, problem: str = "p4") -> tuple[set[int], list]:
    """(indices of the notebook cells in `problem`'s section, the notebook's cells)."""
    try:
        notebook = load_notebook(run.source.path)
    except (MalformedSource, OSError):
        return set(), []
    sections = cell_sections(notebook, run.source.problem_ids or (problem,))
    return {i for i, section in enumerate(sections) if section == problem}, list(notebook.cells)


def comment(run: NotebookRun, figures: Iterable[FigureRecord]) -> tuple[str, str]:
    """(the comment's text, where it was found) or ("", why none) for problem 4."""
    mine, cells = problem_cells(run)
    markdown = [
        i for i in sorted(mine) if cells[i].cell_type == "markdown" and cells[i].source.strip()
    ]
    if not markdown:
        return "", "no markdown cell in the problem-4 part of the notebook"
    drawn = [f.cell_index for f in figures if f.cell_index in mine]
    if drawn:
        following = _following(cells, max(drawn), mine)
        if following:
            return _text(
                cells, following
            ), f"the markdown after the last figure (cell {following[0] + 1})"
    speaking = [i for i in markdown if RESULTS.search(cells[i].source)]
    if speaking:
        return _text(cells, [speaking[-1]]), f"markdown cell {speaking[-1] + 1}"
    return _text(cells, [markdown[-1]]), f"markdown cell {markdown[-1] + 1} (the last of problem 4)"


def _following(cells: list, after: int, mine: set[int]) -> list[int]:
    """The markdown cells after cell `after`, up to the next code cell with content."""
    found = []
    for index in range(after + 1, len(cells)):
        cell = cells[index]
        if cell.cell_type == "code" and cell.source.strip():
            if found or index not in mine:
                break
            continue  # code without a figure between the plot and its comment
        if cell.cell_type == "markdown" and cell.source.strip():
            found.append(index)
    return found


def _text(cells: list, indices: list[int]) -> str:
    return "\n\n".join(cells[i].source.strip() for i in indices)[:MAX_COMMENT_CHARS]


def figure_images(
    figures: Iterable[FigureRecord], cells: set[int], first: Iterable[int] = ()
) -> list[str]:
    """PNG data URIs of the problem's figures (`first`: figure indices to put first), capped
    in number and in bytes, in notebook order."""
    drawn = [f for f in unique_figures(figures) if f.png and (not cells or f.cell_index in cells)]
    wanted = set(first)
    drawn.sort(key=lambda f: (f.index not in wanted, f.index))
    chosen, size = [], 0
    for figure in drawn[:MAX_FIGURES]:
        size += len(figure.png or b"")
        if size > MAX_FIGURE_BYTES:
            break
        chosen.append(figure)
    chosen.sort(key=lambda f: f.index)
    return [PNG_PREFIX + base64.b64encode(f.png or b"").decode("ascii") for f in chosen]
