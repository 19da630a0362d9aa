"""Reading problem-4 figures from the sandbox's figure records (untrusted, validated data).

A probability figure shows test images (28x28 `imshow`) beside bar charts of
the 10 class probabilities. A loss figure has at least two curves (train and
test) over epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlgrade.engine import FigureRecord

N_CLASSES = 10
SUM_TOLERANCE = 0.02  # bars are often drawn from float32 softmax outputs


@dataclass(frozen=True)
class ProbabilityFigure:
    figure: int
    images: int  # 28x28 images drawn
    bar_sets: tuple[tuple[float, ...], ...]  # each: the 10 bar values of one image


def bar_values(bar: dict) -> list[float]:
    """The plotted values of one bar container (widths for horizontal bars)."""
    values = bar.get("values") or bar.get("heights") or []
    return [v for v in values if v is not None]


def probability_figures(figures: tuple[FigureRecord, ...]) -> list[ProbabilityFigure]:
    """Figures with test images and 10-bar charts, most complete first."""
    found = []
    for figure in figures:
        images = sum(
            1 for ax in figure.axes for shape in ax["images"] if tuple(shape[:2]) == (28, 28)
        )
        bar_sets = tuple(
            tuple(bar_values(bar))
            for ax in figure.axes
            for bar in ax["bars"]
            if len(bar_values(bar)) == N_CLASSES
        )
        if images and bar_sets:
            found.append(ProbabilityFigure(figure.index, images, bar_sets))
    return sorted(found, key=lambda f: (min(f.images, len(f.bar_sets)), f.figure), reverse=True)


def probability_problems(bars: tuple[float, ...]) -> list[str]:
    """Why a set of 10 bar values is not a probability distribution (empty when it is)."""
    values = np.asarray(bars, dtype=float)
    problems = []
    if np.any(values < 0):
        problems.append(f"negative values (smallest {values.min():.3g})")
    if abs(values.sum() - 1) > SUM_TOLERANCE:
        problems.append(f"they sum to {values.sum():.3g}, not 1")
    return problems


def curve_figures(figures: tuple[FigureRecord, ...]) -> list[tuple[int, list[dict]]]:
    """(figure index, lines) for axes that draw two or more curves of 2+ points."""
    found = []
    for figure in figures:
        for ax in figure.axes:
            lines = [line for line in ax["lines"] if len(line["y"]) >= 2]
            if len(lines) >= 2:
                found.append((figure.index, lines))
    return found
