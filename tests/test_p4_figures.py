"""Problem-4 figure reading: probability displays and loss curves, by what figures show.

Figure records are built with the same parser the engine uses on the
recorder's log (`dlgrade.engine.figures.parse_figure`), from entries shaped
like the recorder writes them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from checks.p4_figures import (
    plotted_curves,
    probability_figures,
    probability_problems,
    role_of,
    scale_of,
    unique_figures,
)
from checks.p4_losses import curve_series
from dlgrade.engine.figures import parse_figure

PROBS = [0.01, 0.0, 0.02, 0.0, 0.01, 0.05, 0.01, 0.1, 0.0, 0.8]
LOGITS = [-2.1, -4.0, -1.5, -3.3, -2.2, 1.4, -1.9, 2.6, -0.4, 6.1]


def axes(**parts) -> dict:
    base = {"title": "", "xlabel": "", "ylabel": "", "legend": [], "lines": [], "bars": [],
            "points": [], "xticklabels": [], "yticklabels": [], "images": [], "texts": []}  # fmt: skip
    return {**base, **parts}


def image() -> dict:
    return {"shape": [28, 28], "data": None}


def bars(values, horizontal=False, positions=None) -> dict:
    positions = positions if positions is not None else list(range(len(values)))
    return {"label": "", "orientation": "horizontal" if horizontal else "vertical",
            "heights": [0.8] * len(values) if horizontal else list(values), "values": list(values),
            "x": positions, "positions": positions}  # fmt: skip


def line(y, x=None, label="") -> dict:
    return {"label": label, "x": list(x if x is not None else range(len(y))), "y": list(y)}


def figure(index, cell, *axes_list, figure_id=None):
    entry = {"seq": index + 1, "figure_id": figure_id or 1000 + index, "suptitle": "",
             "axes": list(axes_list)}  # fmt: skip
    return parse_figure(json.dumps(entry).encode(), index, cell)


def loop_of_figures(values=PROBS, horizontal=True):
    """`for i in range(3): fig, ax = plt.subplots(1, 2); ...; plt.show()`: one figure per image."""
    return tuple(
        figure(i, 9, axes(images=[image()]), axes(bars=[bars(values, horizontal)]))
        for i in range(3)
    )


def test_one_figure_per_image_counts_three_images():
    best = probability_figures(loop_of_figures())[0]
    assert (best.images, len(best.distributions), best.shown) == (3, 3, 3)
    assert best.where() == "figures 1-3"


def test_images_and_bars_in_separate_figures_count():
    images = figure(0, 9, *(axes(images=[image()]) for _ in range(3)))
    bar_figure = figure(1, 9, *(axes(bars=[bars(PROBS)]) for _ in range(3)))
    assert probability_figures((images, bar_figure))[0].shown == 3


def test_percentages_barh_seaborn_hue_and_stem_lines_are_distributions():
    percent = [100 * p for p in PROBS]
    hue = [bars([v], positions=[k]) for k, v in enumerate(percent)]  # one container per class
    seaborn = figure(0, 3, axes(images=[image()]), axes(bars=hue))
    stem = figure(1, 3, axes(images=[image()]), axes(lines=[line(PROBS), line([0, 0], [0, 9])]))
    best = probability_figures((seaborn, stem))[0]
    assert best.shown == 2
    assert [d.kind for d in best.distributions] == ["bars", "line"]
    assert scale_of(best.distributions[0].values) == "percentages"
    assert scale_of(best.distributions[1].values) == "fractions"


def test_logits_are_named_and_sums_checked():
    assert probability_problems(PROBS) == []
    assert probability_problems([100 * p for p in PROBS]) == []
    problems = probability_problems(LOGITS)
    assert problems[0].startswith("negative values")
    assert "not 1 (or 100" in problems[1]
    assert probability_problems([0.5] * 10) == ["they sum to 5, not 1 (or 100 for percentages)"]


def test_a_figure_without_test_images_or_ten_values_is_no_probability_display():
    curve = figure(0, 5, axes(lines=[line([0.9, 0.5, 0.4])]))
    three_bars = figure(1, 6, axes(images=[image()]), axes(bars=[bars([0.5, 0.3, 0.2])]))
    only_bars = figure(2, 7, axes(bars=[bars(PROBS)]))
    assert probability_figures((curve, three_bars)) == []
    assert probability_figures((only_bars,)) == []


def test_fewer_images_show_fewer():
    figures = loop_of_figures()[:2]
    assert probability_figures(figures)[0].shown == 2


def test_figures_far_apart_are_separate_displays():
    early = figure(0, 2, axes(images=[image()] * 25))  # a grid of training images
    later = figure(1, 20, axes(bars=[bars(PROBS)]))
    assert probability_figures((early, later)) == []


def test_rerenders_of_one_figure_count_once():
    shown = loop_of_figures()
    again = figure(3, 9, *shown[2].axes, figure_id=shown[2].figure_id)
    assert len(unique_figures((*shown, again))) == 3
    assert probability_figures((*shown, again))[0].images == 3


def test_figures_outside_the_problem_cells_are_ignored():
    assert probability_figures(loop_of_figures(), cells={1, 2}) == []


def test_the_best_display_comes_first_whatever_the_order():
    # the grader judges displays[0]: an attempt with raw logits must not stand in for the
    # probabilities drawn elsewhere, before or after it (cells 2 and 9: separate displays)
    def display(first: int, cell: int, values: list[float], shown: int = 3):
        return tuple(
            figure(first + i, cell, axes(images=[image()]), axes(bars=[bars(values)]))
            for i in range(shown)
        )

    for early, late in [(LOGITS, PROBS), (PROBS, LOGITS)]:
        found = probability_figures((*display(0, 2, early), *display(3, 9, late)))
        assert [(d.shown, d.shown_valid) for d in found] == [(3, 3), (3, 0)]
    # among valid displays, the one showing more images
    found = probability_figures((*display(0, 2, PROBS), *display(3, 9, PROBS, shown=2)))
    assert [d.shown for d in found] == [3, 2]
    assert found[0].figures == (0, 1, 2)


def test_loss_curves_on_separate_subplots_are_read_with_their_roles():
    train = axes(title="Training loss", xlabel="epoch", lines=[line([0.9, 0.6, 0.5], [1, 2, 3])])
    test = axes(title="Test loss", lines=[line([0.7, 0.6, 0.58], [1, 2, 3])])
    curves = tuple(plotted_curves((figure(0, 4, train, test),)))
    assert [(c.role, c.measure) for c in curves] == [("train", "loss"), ("test", "loss")]
    found_train, found_test = curve_series(curves)
    assert found_train.values == pytest.approx((0.9, 0.6, 0.5))
    assert found_test.values == pytest.approx((0.7, 0.6, 0.58))


def test_legend_labels_name_the_curves_and_accuracy_is_not_loss():
    ax = axes(ylabel="loss", legend=["train", "val"],
              lines=[line([0.9, 0.5], label="train"), line([0.8, 0.6], label="val")])  # fmt: skip
    acc = axes(
        ylabel="accuracy", lines=[line([0.6, 0.8], label="train"), line([0.5, 0.7], label="test")]
    )
    curves = tuple(plotted_curves((figure(0, 4, ax, acc),)))
    assert [(c.role, c.measure) for c in curves] == [
        ("train", "loss"), ("test", "loss"), ("train", "accuracy"), ("test", "accuracy"),
    ]  # fmt: skip
    train, test = curve_series(curves)
    assert train.values == (0.9, 0.5) and test.values == (0.8, 0.6)


def test_lines_not_over_epochs_are_not_curves():
    scattered = axes(lines=[line([0.9, 0.5, 0.4], x=[0.3, 0.1, 2.7], label="train loss")])
    assert plotted_curves((figure(0, 4, scattered),)) == []


def test_a_ten_epoch_loss_curve_next_to_the_probabilities_is_no_distribution():
    epochs = list(range(1, 11))
    losses = axes(xlabel="epoch", ylabel="loss", legend=["train", "test"],
                  lines=[line(np.linspace(0.9, 0.3, 10), epochs, "train"),
                         line(np.linspace(0.8, 0.4, 10), epochs, "test")])  # fmt: skip
    curve = figure(0, 7, losses)
    shown = loop_of_figures()
    best = probability_figures((curve, *shown))[0]
    assert (best.images, len(best.distributions), best.shown_valid) == (3, 3, 3)
    # a probability line in a figure of its own counts when its axis names the classes
    classes = axes(lines=[line(PROBS)], xticklabels=[f"class {k}" for k in range(10)])
    assert len(figure(1, 8, classes).axes) == 1
    assert [d.kind for d in probability_figures((figure(1, 8, axes(images=[image()])),
                                                 figure(2, 8, classes)))[0].distributions] == ["line"]  # fmt: skip


def test_valid_distributions_decide_how_many_images_are_shown():
    extra = figure(3, 9, axes(bars=[bars(LOGITS)]))  # a fourth chart of raw outputs
    best = probability_figures((*loop_of_figures(), extra))[0]
    assert (best.shown, best.shown_valid) == (3, 3)
    logits = probability_figures(loop_of_figures(LOGITS))[0]
    assert (logits.shown, logits.shown_valid) == (3, 0)


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Loss value", None),
        ("loss_values", None),
        ("interval_loss", None),
        ("Train loss value", "train"),
        ("val_loss", "test"),
        ("valLoss", "test"),
        ("validation accuracy", "test"),
        ("history['val_acc']", "test"),
        ("test_losses", "test"),
    ],
)
def test_val_is_a_test_role_only_as_a_word_of_its_own(name, role):
    assert role_of(name) == role


@pytest.mark.parametrize(
    ("shape", "count"),
    [
        ((28, 28), 1),
        ((32, 92, 3), 3),  # make_grid(images[:3]) with its default padding of 2, as RGB
        ((28, 84), 3),  # padding=0
        ((62, 62, 3), 4),  # 2 x 2
        ((10, 10), 0),  # a confusion matrix
        ((30, 31), 0),
    ],
)
def test_a_make_grid_image_counts_each_image_it_holds(shape, count):
    grid = figure(0, 9, axes(images=[{"shape": list(shape), "data": None}]))
    bar_figure = figure(1, 9, *(axes(bars=[bars(PROBS)]) for _ in range(3)))
    found = probability_figures((grid, bar_figure))
    assert (found[0].images if found else 0) == count


TOP_3 = ["Ankle boot", "Sneaker", "Sandal"]


def test_top_k_bars_naming_their_classes_are_distributions():
    named = [
        figure(
            i,
            9,
            axes(images=[image()]),
            axes(bars=[bars([0.9, 0.06, 0.02], True)], yticklabels=TOP_3),
        )  # fmt: skip
        for i in range(3)
    ]
    best = probability_figures(named)[0]
    assert (best.shown, best.shown_valid) == (3, 3)
    assert {d.kind for d in best.distributions} == {"top-3 bars"}
    percent = figure(0, 9, axes(images=[image()]), axes(bars=[bars([71.0, 20.5])],
                                                         xticklabels=["Shirt", "T-shirt/top"]))  # fmt: skip
    assert probability_figures((percent,))[0].shown_valid == 1
    unnamed = figure(0, 9, axes(images=[image()]), axes(bars=[bars([0.9, 0.06, 0.02])]))
    assert probability_figures((unnamed,)) == []


def test_top_k_logits_are_not_probabilities():
    assert probability_problems([0.9, 0.06, 0.02]) == []
    assert probability_problems([95.0, 3.0]) == []
    assert probability_problems([6.1, 2.6, 1.4]) == [
        "the top 3 sum to 10.1, not between 0.3 and 1 (or 30 and 100 for percentages)"
    ]
    assert probability_problems([0.1, 0.05])  # the top 2 of 10 hold at least a fifth
    logits = figure(0, 9, axes(images=[image()]), axes(bars=[bars([6.1, 2.6, -1.4])],
                                                        xticklabels=TOP_3))  # fmt: skip
    assert probability_figures((logits,))[0].shown_valid == 0


def test_a_validation_loss_beside_a_real_test_loss_is_not_the_test_loss():
    epochs = [1, 2, 3]
    ax = axes(xlabel="epoch", ylabel="loss", legend=["train", "val", "test"],
              lines=[line([0.9, 0.6, 0.5], epochs, "train"), line([0.8, 0.65, 0.6], epochs, "val"),
                     line([0.82, 0.66, 0.61], epochs, "test")])  # fmt: skip
    train, test = curve_series(tuple(plotted_curves((figure(0, 4, ax),))))
    assert (train.name, test.name) == ("train", "test")
    without_test = {**ax, "lines": ax["lines"][:2]}
    _, alone = curve_series(tuple(plotted_curves((figure(0, 4, without_test),))))
    assert alone.name == "val"  # a validation loss alone still stands for the test loss
