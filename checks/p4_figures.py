"""Reading problem-4 figures by what they show (from the sandbox's validated figure records).

A probability display shows test images (28x28 `imshow`, or a
`torchvision.utils.make_grid` of them) with a distribution over the 10 classes
for each: bars (vertical or horizontal, one container or one per class as
seaborn draws them), a line, a stem or scatter plot of 10 values, or bars of
the top k classes, which then name them. It may be one figure or several
consecutive ones (the usual `for i in range(3): fig, ax = plt.subplots(1, 2)
... plt.show()` loop, or the images in one figure and the bars in the next). Values are probabilities when
they are non-negative and sum to 1 (fractions) or 100 (percentages); the top k
of them sum to at most that.

A loss figure draws curves over epochs; each curve is read with its role
(train or test) and measure (loss or accuracy) from its label, the legend,
the axes title and labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from dlgrade.engine import CellResult, FigureRecord
from reference.fashion_mlp import CLASS_NAMES

N_CLASSES = 10
SIDE = 28  # a FashionMNIST image is SIDE x SIDE pixels
MAX_GRID_PADDING = 10  # make_grid's padding between images (2 by default)
SUM_TOLERANCE = 0.02  # bars are often drawn from float32 softmax outputs (and rounded)
MAX_CELL_GAP = 3  # figures further apart than this many notebook cells are separate displays


@dataclass(frozen=True)
class Distribution:
    figure: int  # index of the figure record
    values: tuple[float, ...]
    kind: str  # "bars", "line" or "points"


@dataclass(frozen=True)
class ProbabilityFigure:
    """Test images and 10-class distributions shown together (one or several figures)."""

    figures: tuple[int, ...]  # figure record indices
    images: int  # 28x28 images drawn (each image of a make_grid counts)
    distributions: tuple[Distribution, ...]

    @property
    def shown(self) -> int:
        """How many images are shown with a distribution."""
        return min(self.images, len(self.distributions))

    @property
    def valid(self) -> tuple[Distribution, ...]:
        """The distributions that are probabilities (fractions or percentages)."""
        return tuple(d for d in self.distributions if not probability_problems(d.values))

    @property
    def shown_valid(self) -> int:
        """How many images are shown with a probability distribution."""
        return min(self.images, len(self.valid))

    def where(self) -> str:
        numbers = [i + 1 for i in self.figures]
        if len(numbers) == 1:
            return f"figure {numbers[0]}"
        return f"figures {numbers[0]}-{numbers[-1]}"


def unique_figures(figures: Iterable[FigureRecord]) -> list[FigureRecord]:
    """The figures without re-renders (a figure saved and then shown is rendered twice)."""
    seen: set[tuple] = set()
    unique = []
    for figure in figures:
        key = (
            figure.figure_id if figure.figure_id is not None else figure.cell_index,
            repr(figure.axes),
        )
        if key not in seen:
            seen.add(key)
            unique.append(figure)
    return unique


def probability_figures(
    figures: Iterable[FigureRecord], cells: set[int] | None = None
) -> list[ProbabilityFigure]:
    """Displays of test images with 10-class distributions, best first.

    `cells`: the notebook cells of problem 4 (None: every figure counts).
    Best: most images shown with a distribution, then most valid
    distributions, then the latest.
    """
    found = []
    run: list[tuple[FigureRecord, int, list[Distribution]]] = []
    for figure in unique_figures(figures):
        if cells is not None and figure.cell_index not in cells:
            continue
        images, dists = _images(figure), distributions(figure)
        gap = (
            run
            and figure.cell_index is not None
            and run[-1][0].cell_index is not None
            and figure.cell_index - run[-1][0].cell_index > MAX_CELL_GAP
        )
        if (not images and not dists) or gap:
            found += _display(run)
            run = []
        if images or dists:
            run.append((figure, images, dists))
    found += _display(run)
    return sorted(found, key=lambda f: (f.shown_valid, f.shown, f.figures), reverse=True)


def _display(run: list[tuple[FigureRecord, int, list[Distribution]]]) -> list[ProbabilityFigure]:
    images = sum(n for _, n, _ in run)
    dists = tuple(d for _, _, ds in run for d in ds)
    if not images or not dists:
        return []
    return [ProbabilityFigure(tuple(f.index for f, _, _ in run), images, dists)]


def _images(figure: FigureRecord) -> int:
    return sum(
        grid_count(tuple(image["shape"][:2])) for ax in figure.axes for image in ax["images"]
    )


def grid_count(shape: tuple[int, ...]) -> int:
    """How many 28x28 images an image of `shape` (height, width) holds: 1 for one image,
    rows x columns for a `make_grid` of them (padding between and around), else 0."""
    if len(shape) != 2:
        return 0
    for padding in range(MAX_GRID_PADDING + 1):
        cell = SIDE + padding
        (rows, row_rest), (cols, col_rest) = (divmod(side - padding, cell) for side in shape)
        if rows >= 1 and cols >= 1 and row_rest == col_rest == 0:
            return rows * cols
    return 0


def distributions(figure: FigureRecord) -> list[Distribution]:
    """Every set of 10 values the figure draws as bars, a 10-point line or 10 points,
    and every top-k bar chart (2 to 9 bars) whose labels name the classes it shows.

    Lines and points count only on axes about classes: not a curve over epochs
    (its labels speak of epochs, losses or accuracy), and in a figure with an
    image or on an axis labelled with the 10 classes; a 10-epoch loss curve
    is no distribution.
    """
    found = []
    has_image = _images(figure) > 0
    for ax in figure.axes:
        bars = [_bar_values(b) for b in ax["bars"]]
        whole = [b for b in bars if len(b) == N_CLASSES]
        drawn = sum(len(b) for b in bars)
        if not whole and len(bars) > 1 and drawn == N_CLASSES:
            whole = [_merged(ax["bars"])]  # seaborn with hue draws one container per class
        found += [Distribution(figure.index, tuple(v), "bars") for v in whole]
        if not whole and 2 <= drawn < N_CLASSES and _names_classes(ax, drawn):
            top = _merged(ax["bars"]) if len(bars) > 1 else tuple(bars[0])
            found.append(Distribution(figure.index, top, f"top-{drawn} bars"))
        if not _about_classes(ax, has_image):
            continue
        for line in ax["lines"]:
            values = _line_values(line)
            if values is not None:
                found.append(Distribution(figure.index, values, "line"))
        for group in ax.get("points", []):
            ys = [y for x, y in group["xy"] if x is not None and y is not None]
            if len(ys) == N_CLASSES == len(group["xy"]):
                found.append(Distribution(figure.index, tuple(ys), "points"))
    return found


_CURVE_WORDS = re.compile(r"epoch|iteration|batch|step|loss|acc", re.I)


def _about_classes(ax: dict, has_image: bool) -> bool:
    texts = [ax["title"], ax["xlabel"], ax["ylabel"], *ax["legend"]]
    texts += [line["label"] for line in ax["lines"] if not line["label"].startswith("_")]
    if any(_CURVE_WORDS.search(t) for t in texts):
        return False
    named = sum(1 for t in ax["xticklabels"] + ax["yticklabels"] if t.strip())
    return has_image or named >= N_CLASSES


_CLASS_NAME = re.compile(
    "|".join(re.escape(part) for name in CLASS_NAMES for part in name.split("/")), re.IGNORECASE
)


def _names_classes(ax: dict, count: int) -> bool:
    """The axes name at least `count` classes (tick labels, legend, bar labels): bars of the
    top k classes mean nothing without saying which classes they are."""
    texts = ax["xticklabels"] + ax["yticklabels"] + ax["legend"]
    texts += [bar.get("label", "") for bar in ax["bars"]]
    return sum(1 for t in texts if isinstance(t, str) and _CLASS_NAME.search(t)) >= count


def _bar_values(bar: dict) -> list[float]:
    """The plotted values of one bar container (widths for horizontal bars)."""
    values = bar.get("values") or bar.get("heights") or []
    return [v for v in values if v is not None]


def _merged(bars: list[dict]) -> tuple[float, ...]:
    pairs = []
    for bar in bars:
        positions = bar.get("positions") or bar.get("x") or []
        pairs += [
            (p, v) for p, v in zip(positions, _bar_values(bar), strict=False) if p is not None
        ]
    return tuple(v for _, v in sorted(pairs))


def _line_values(line: dict) -> tuple[float, ...] | None:
    """The 10 y values of a line over 10 evenly spaced x positions (a line or stem plot)."""
    xs, ys = line["x"], line["y"]
    if len(ys) != N_CLASSES or any(v is None for v in xs + ys):
        return None
    steps = np.diff(np.asarray(xs, dtype=float))
    if not (np.all(steps > 0) and np.allclose(steps, steps[0])):
        return None
    return tuple(ys)


def scale_of(values: Iterable[float]) -> str | None:
    """'fractions' (sum 1), 'percentages' (sum 100) or None, for non-negative values.

    Fewer than 10 values are the top k: being the largest, they hold at least
    k/10 of the total and at most all of it.
    """
    array = np.asarray(list(values), dtype=float)
    if np.any(array < -1e-9):
        return None
    low, high = (len(array) / N_CLASSES, 1.0) if len(array) < N_CLASSES else (1.0, 1.0)
    for scale, total in (("fractions", 1), ("percentages", 100)):
        if low * total * (1 - SUM_TOLERANCE) <= array.sum() <= high * total * (1 + SUM_TOLERANCE):
            return scale
    return None


def probability_problems(values: Iterable[float]) -> list[str]:
    """Why 10 values (or the top k) are not a probability distribution (empty when they are)."""
    array = np.asarray(list(values), dtype=float)
    if scale_of(array) is not None:
        return []
    problems = []
    if np.any(array < 0):
        problems.append(f"negative values (smallest {array.min():.3g})")
    k = len(array)
    if k < N_CLASSES:
        problems.append(
            f"the top {k} sum to {array.sum():.3g}, not between {k / N_CLASSES:g} and 1 "
            f"(or {100 * k // N_CLASSES} and 100 for percentages)"
        )
    else:
        problems.append(f"they sum to {array.sum():.3g}, not 1 (or 100 for percentages)")
    return problems


# --- curves ---------------------------------------------------------------------------

_TRAIN = re.compile(r"train|\btr\b|\btrn\b|fit", re.I)
# "val" only where a word starts with it and is not "value": "Loss value", "interval" say no role.
_TEST = re.compile(r"test|\bval(?!ue)|\bte\b|\btst\b|\bdev\b|\beval", re.I)
_LOSS = re.compile(r"loss|cost|\bnll\b|cross.?entropy|\bce\b", re.I)
_ACCURACY = re.compile(r"acc|correct|\bscore", re.I)


def words(name: str) -> str:
    """'trainLoss' -> 'train loss', "history['tr_loss']" -> "history tr loss": for role tests."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.sub(r"[^A-Za-z0-9]+", " ", spaced).strip().lower()


def role_of(text: str) -> str | None:
    """'train', 'test' or None from a name or label."""
    text = words(text)
    train, test = bool(_TRAIN.search(text)), bool(_TEST.search(text))
    return "train" if train and not test else "test" if test and not train else None


def measure_of(text: str) -> str | None:
    text = words(text)
    loss, accuracy = bool(_LOSS.search(text)), bool(_ACCURACY.search(text))
    return "loss" if loss and not accuracy else "accuracy" if accuracy and not loss else None


@dataclass(frozen=True)
class Curve:
    figure: int
    label: str
    y: tuple[float, ...]
    role: str | None  # train, test
    measure: str | None  # loss, accuracy
    over: str = "epochs"  # what the x axis counts: epochs, or batches (its label says so)


_BATCHES = re.compile(r"batch|iter|step|update|sample", re.I)


def plotted_curves(figures: Iterable[FigureRecord], cells: set[int] | None = None) -> list[Curve]:
    """Lines over epochs or over mini-batches (x = evenly spaced integers, or an axis label
    saying so); a line over batches is not a per-epoch curve, whatever it holds."""
    curves = []
    for figure in unique_figures(figures):
        if cells is not None and figure.cell_index not in cells:
            continue
        for ax in figure.axes:
            over = (
                "batches"
                if _BATCHES.search(ax["xlabel"]) and "epoch" not in ax["xlabel"].lower()
                else "epochs"
            )
            lines = [line for line in ax["lines"] if _evenly_over(line, ax["xlabel"])]
            labelled = [line for line in ax["lines"] if not line["label"].startswith("_")]
            legend = dict(zip((id(line) for line in labelled), ax["legend"], strict=False))
            context = " ".join((ax["title"], ax["ylabel"], figure.suptitle))
            for line in lines:
                own = line["label"] if not line["label"].startswith("_") else ""
                label = own or legend.get(id(line), "")
                text = label if len(lines) > 1 else f"{label} {context}"
                role = role_of(text) or (role_of(context) if len(lines) == 1 else None)
                measure = measure_of(label) or measure_of(context)
                y = tuple(v for v in line["y"] if v is not None)
                curves.append(Curve(figure.index, label or ax["title"], y, role, measure, over))
    return curves


def _evenly_over(line: dict, xlabel: str) -> bool:
    xs, ys = line["x"], line["y"]
    if len(ys) < 2 or any(v is None for v in xs + ys):
        return False
    if "epoch" in xlabel.lower():
        return True
    steps = np.diff(np.asarray(xs, dtype=float))
    return bool(
        np.all(steps > 0) and np.allclose(steps, np.round(steps)) and np.allclose(steps, steps[0])
    )


# --- probabilities printed instead of drawn -----------------------------------------

_CLASS_WORD = re.compile(
    "|".join(re.escape(n.split("/")[0]) for n in CLASS_NAMES) + r"|prob", re.IGNORECASE
)
_NUMBER = re.compile(r"\b0?\.\d+|\d\s?%|\d\.\d+e-\d")
_NOT_PROBABILITY = re.compile(r"accura|loss|epoch", re.IGNORECASE)


def printed_probabilities(cells: Iterable[CellResult], allowed: set[int]) -> str | None:
    """'cell 12 printed "Trouser 0.0001"' when class probabilities were printed, else None."""
    for cell in cells:
        if allowed and cell.index not in allowed:
            continue
        for line in cell.text.splitlines():
            if (
                _CLASS_WORD.search(line)
                and _NUMBER.search(line)
                and not _NOT_PROBABILITY.search(line)
            ):
                return f"cell {cell.index + 1} printed {line.strip()[:100]!r}"
    return None
