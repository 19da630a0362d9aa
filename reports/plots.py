"""PNG figures for the HTML reports, returned as `data:` URIs so a report is one file.

Figures are built on `matplotlib.figure.Figure` directly (never pyplot) so no
global figure registry is touched: rendering stays safe in worker processes
and never needs a display.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dlgrade.text import readable

PNG_PREFIX = "data:image/png;base64,"
DPI = 96


def figure_to_data_uri(fig: Figure) -> str:
    """Encode a finished figure as an inline PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def line_plot(
    series: Mapping[str, Sequence[float]],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
) -> str:
    """One line per series (e.g. student vs reference loss per epoch), x = 1..n."""
    fig = Figure(figsize=(5.2, 3.2))
    ax = fig.add_subplot()
    for label, values in series.items():
        xs = range(1, len(values) + 1)
        ax.plot(xs, [float(v) for v in values], marker="o", markersize=3, label=str(label))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    return figure_to_data_uri(fig)


def histogram(values: Sequence[float], title: str, xlabel: str, bins: int = 10) -> str:
    """Score distribution of the class (values are usually percentages 0..100)."""
    fig = Figure(figsize=(5.6, 2.8))
    ax = fig.add_subplot()
    ax.hist(list(values), bins=bins, range=(0, 100), color="#4c78a8", edgecolor="white")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, axis="y")
    return figure_to_data_uri(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> str:
    """Grading time per submission, one bar each (longest at the top)."""
    height = max(1.6, 0.28 * len(labels) + 0.8)
    fig = Figure(figsize=(5.6, height))
    ax = fig.add_subplot()
    ax.barh([readable(label) for label in labels], list(values), color="#72b7b2")
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(alpha=0.3, axis="x")
    return figure_to_data_uri(fig)
