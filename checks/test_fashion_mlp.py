"""Problem 4 (both editions): the FashionMNIST MLP, judged against `reference.fashion_mlp`.

The probe hands the grader the trained model's Linear weights and its outputs
on fixed test images. The grader loads those weights into the reference
784-256-128-64-10 ReLU network: if it reproduces the student's outputs, the
architecture is right, and the grader then measures test accuracy itself on
the real test set. Loss curves and the probability figure are read from the
notebook's globals and its recorded figures.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from checks.notebook_runs import require_probe
from checks.p4_figures import curve_figures, probability_figures, probability_problems
from checks.scoring import CheckFailed, PartialCredit, not_graded, prerequisite_failed
from dlgrade.data import load
from dlgrade.engine import NotebookRun
from reference import fashion_mlp as ref

# Test accuracy: full credit at FULL or more, linear partial credit down to ZERO.
# Quick mode trains on 6000 images, so its band sits lower (an estimate only).
ACCURACY_BANDS = {False: (0.85, 0.75), True: (0.72, 0.60)}
REPORTED_TOLERANCE = 1.0  # percentage points
_NORMALIZE = re.compile(r"Normalize\(mean=[\[(]?\s*([-\d.eE+]+).*?std=[\[(]?\s*([-\d.eE+]+)", re.S)


@pytest.fixture(scope="session")
def p4(notebooks) -> NotebookRun:
    problem = notebooks.get("p4")
    if problem.run is None:
        prerequisite_failed(problem.reason, problem.status)
    return problem.run


@pytest.fixture(scope="session")
def p4_values(p4) -> dict:
    result = p4.probe("p4_model")
    if result.error and not result.values:
        require_probe(p4, result, "the model")
        prerequisite_failed(f"could not read the model from {p4.source.path.name}: {result.error}")
    return result.values


@pytest.fixture(scope="session")
def rebuilt(p4_values) -> torch.nn.Module:
    """The reference network holding the student's weights (CheckFailed if impossible)."""
    return rebuild(p4_values)


def rebuild(values: dict) -> torch.nn.Module:
    names = values.get("model_names") or []
    if not names:
        raise CheckFailed(
            "no torch.nn.Module with Linear layers was left in the notebook's globals "
            "(keep the trained model in a variable such as `model`)"
        )
    shapes = []
    for i in range(8):
        weight = values.get(f"linear{i}_weight")
        if weight is None:
            break
        shapes.append(tuple(np.shape(weight)))
    expected = [
        (n_out, n_in) for n_in, n_out in zip(ref.LAYER_SIZES[:-1], ref.LAYER_SIZES[1:], strict=True)
    ]
    if shapes != expected:
        found = " -> ".join(f"{s[1]}x{s[0]}" for s in shapes) or "none"
        raise CheckFailed(
            f"`{values.get('model_name')}` has Linear layers {found}; expected 784 -> 256 -> 128 -> 64 -> 10"
        )
    model = ref.build_model()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for i, layer in enumerate(linears):
            layer.weight.copy_(
                torch.from_numpy(np.asarray(values[f"linear{i}_weight"], dtype=np.float32))
            )
            bias = values.get(f"linear{i}_bias")
            layer.bias.copy_(
                torch.zeros(layer.out_features)
                if bias is None
                else torch.from_numpy(np.asarray(bias, dtype=np.float32))
            )
    return model.eval()


@pytest.mark.part("4-arch")
def test_architecture(p4_values, rebuilt, record):
    outputs = p4_values.get("outputs")
    images = load("fashion-mnist").x_test[: len(outputs) if outputs is not None else 0]
    record.add("found", "layers: " + ", ".join(p4_values.get("layers", [])))
    if outputs is None or np.shape(outputs) != (len(images), 10):
        raise CheckFailed(
            f"calling the model on a batch of test images did not give 10 outputs per image (found shape {np.shape(outputs)})"
        )
    with torch.no_grad():
        mine = rebuilt(torch.from_numpy(images.astype(np.float32) / 255.0)).double().numpy()
    scale = max(1.0, float(np.abs(mine).max()))
    if not np.allclose(outputs, mine, rtol=1e-3, atol=1e-4 * scale):
        raise CheckFailed(
            "the model's outputs differ from a plain 784-256-128-64-10 network with ReLU after each "
            f"hidden layer and a linear output (largest difference {np.abs(outputs - mine).max():.3g}); "
            f"its layers are: {', '.join(p4_values.get('layers', []))}"
        )


def input_normalisation(values: dict) -> tuple[float, float]:
    """(mean, std) of a Normalize in the test dataset's transform; (0, 1) if none."""
    datasets = [d for d in values.get("datasets", []) if isinstance(d, dict)]
    datasets.sort(key=lambda d: bool(d.get("train")))  # test sets first
    for dataset in datasets:
        match = _NORMALIZE.search(str(dataset.get("transform", "")))
        if match:
            mean, std = float(match.group(1)), float(match.group(2))
            if std > 0:
                return mean, std
    return 0.0, 1.0


@pytest.fixture(scope="session")
def measured_accuracy(p4_values, rebuilt) -> float:
    fashion = load("fashion-mnist")
    x, y = ref.to_tensors(fashion.x_test, fashion.y_test, torch.device("cpu"))
    mean, std = input_normalisation(p4_values)
    return ref.evaluate(rebuilt, (x - mean) / std, y)[1]


@pytest.mark.part("4-acc")
def test_test_accuracy(measured_accuracy, quick, record):
    full, zero = ACCURACY_BANDS[quick]
    record.add(
        "found",
        f"test accuracy measured by the grader on the 10000 test images: {measured_accuracy:.2%}",
    )
    if quick:
        record.add(
            "note", "quick mode: the notebook trained on 6000 images, so this is an estimate"
        )
    if measured_accuracy >= full:
        return
    fraction = max(0.0, (measured_accuracy - zero) / (full - zero))
    message = (
        f"test accuracy {measured_accuracy:.2%} (measured by the grader on the real test set); "
        f"full credit from {full:.0%}, partial credit from {zero:.0%}"
    )
    raise PartialCredit(fraction, message) if fraction > 0 else CheckFailed(message)


def loss_series(
    values: dict,
) -> tuple[tuple[str, list[float]] | None, tuple[str, list[float]] | None]:
    series = {
        k: v for k, v in (values.get("series") or {}).items() if isinstance(v, list) and len(v) >= 2
    }
    losses = {k: v for k, v in series.items() if "loss" in k.lower()}

    def pick(words: tuple[str, ...]) -> tuple[str, list[float]] | None:
        names = sorted((k for k in losses if any(w in k.lower() for w in words)), key=len)
        return (names[0], losses[names[0]]) if names else None

    return pick(("train",)), pick(("test", "val"))


@pytest.mark.part("4-curves")
def test_loss_curves(p4, p4_values, record):
    train, test = loss_series(p4_values)
    plotted = curve_figures(p4.figures)
    if train is None or test is None:
        names = ", ".join(sorted(p4_values.get("series") or {})) or "none"
        raise CheckFailed(
            "per-epoch train and test losses were not found: keep them in lists named like "
            f"`train_losses` and `test_losses` (loss/accuracy lists found: {names})"
        )
    record.add(
        "plot",
        {
            "title": "Loss per epoch (the student's own values)",
            "xlabel": "epoch",
            "ylabel": "loss",
            "series": {f"student {train[0]}": train[1], f"student {test[0]}": test[1]},
        },
    )
    if not train[1][-1] < train[1][0]:
        raise CheckFailed(
            f"training loss does not fall: `{train[0]}` goes from {train[1][0]:.4g} to {train[1][-1]:.4g}"
        )
    if not plotted:
        raise PartialCredit(
            0.5, f"`{train[0]}` and `{test[0]}` were found, but no figure plots the two curves"
        )


@pytest.mark.part("4-probs")
def test_probability_figure(p4, record):
    candidates = probability_figures(p4.figures)
    if not candidates:
        raise CheckFailed(
            "no figure shows test images with bar charts of the 10 class probabilities "
            f"({len(p4.figures)} figure(s) recorded); draw 3 test images, each with a bar chart "
            f"of softmax probabilities{failed_cells(p4)}"
        )
    best = candidates[0]
    shown = min(best.images, len(best.bar_sets))
    record.add(
        "found",
        f"figure {best.figure}: {best.images} image(s), {len(best.bar_sets)} bar chart(s) of 10 classes",
    )
    for k, bars in enumerate(best.bar_sets):
        problems = probability_problems(bars)
        if problems:
            raise CheckFailed(
                f"the bars for image {k + 1} are not probabilities: {' and '.join(problems)}. "
                "These look like raw model outputs (logits); apply softmax before plotting"
            )
    if shown < 3:
        raise PartialCredit(
            shown / 3,
            f"the probability figure shows {shown} image(s) with probabilities; expected 3",
        )


@pytest.mark.part(spring2023="4-reported")
def test_reported_accuracy(answers, part, measured_accuracy, quick, record):
    if quick:
        not_graded("quick mode trains on a slice, so the reported accuracy cannot be compared")
    reported = answers.reported_test_accuracy(part.id)
    record.add("found", f"reported {reported:.2f} %, measured {measured_accuracy:.2%}")
    if abs(reported - 100 * measured_accuracy) > REPORTED_TOLERANCE:
        raise CheckFailed(
            f"answers.toml reports a test accuracy of {reported:.2f} %, but the model in the notebook "
            f"reaches {100 * measured_accuracy:.2f} % (must agree within {REPORTED_TOLERANCE:g} point)"
        )


@pytest.mark.part("4-comment")
def test_comment_for_review(p4, record):
    text = markdown_text(p4)
    record.add("text", text or "(no markdown comment found in the notebook)")
    if not text:
        raise CheckFailed(f"{p4.source.path.name} has no markdown comment on the predictions")


def failed_cells(run: NotebookRun) -> str:
    """'; cell 8 failed with SyntaxError: …' for each code cell that did not run cleanly."""
    failures = [
        f"cell {c.index + 1} failed with {c.error_name or c.status}: {(c.error_value or '')[:120]}"
        for c in run.cells
        if c.status != "ok"
    ]
    return "; " + "; ".join(failures[:3]) if failures else ""


def markdown_text(run: NotebookRun) -> str:
    from dlgrade.engine.notebooks import load_notebook

    cells = load_notebook(run.source.path).cells
    return "\n\n".join(
        c.source.strip() for c in cells if c.cell_type == "markdown" and c.source.strip()
    )[:5000]
