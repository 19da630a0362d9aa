"""Which homework problem each code cell of a notebook works on (its section).

A notebook may hold several problems one after another. Each code cell is
assigned the problem whose cues it shows most (cues are names and calls only
that problem uses); a cell with no cue belongs to the section above it. The
engine runs a problem's probes right after the section's last cell when a
later section follows, so a slow or stuck later problem cannot take an
earlier problem's results with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nbformat import NotebookNode

from dlgrade.engine.tagging import RELU_FIT_CUES

_CUES: dict[str, tuple[re.Pattern[str], ...]] = {
    "p3": RELU_FIT_CUES,
    "p4": (
        re.compile(r"FashionMNIST|fashion_mnist", re.IGNORECASE),
        re.compile(r"\bnn\.(Module|Linear|Sequential|ReLU|CrossEntropyLoss|NLLLoss)\b"),
        re.compile(r"\bDataLoader\b|\boptim\.\w+|\.zero_grad\(\)|\.backward\(\)"),
    ),
    "p5": (
        re.compile(
            r"\b(train_one_sample|train_one_epoch|feed_forward_sample|feed_forward_dataset|"
            r"integer_to_one_hot|test_and_train|dsigmoid)\b"
        ),
        re.compile(r"default_rng\(\s*80085|mnist\.load_data"),
    ),
}


def cell_sections(notebook: NotebookNode, problems: Sequence[str]) -> list[str | None]:
    """The problem of each cell, by index, among `problems` (the notebook's own, found
    by discovery); None before any cue. One problem: every cell is its section."""
    if len(problems) <= 1:
        return [problems[0] if problems else None] * len(notebook.cells)
    sections: list[str | None] = []
    current: str | None = None
    for cell in notebook.cells:
        if cell.cell_type == "code":
            current = _strongest(cell.source, problems) or current
        sections.append(current)
    return sections


def _strongest(code: str, problems: Sequence[str]) -> str | None:
    scores = {p: sum(1 for cue in _CUES.get(p, ()) if cue.search(code)) for p in problems}
    best = max(scores.values())
    if best == 0:
        return None
    leaders = [p for p, score in scores.items() if score == best]
    return leaders[0] if len(leaders) == 1 else None


def early_probe_cells(sections: Sequence[str | None], problems: set[str]) -> dict[str, int]:
    """For each problem whose section is followed by another section: its last cell index."""
    last: dict[str, int] = {}
    for index, section in enumerate(sections):
        if section is not None:
            last[section] = index
    final = max(last.values(), default=-1)
    return {
        problem: index
        for problem, index in last.items()
        if problem in problems
        and any(s is not None and s != problem for s in sections[index + 1 : final + 1])
    }
