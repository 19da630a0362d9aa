"""Problem 4 (both editions): the FashionMNIST MLP, judged against `reference.fashion_mlp`.

The probe reads every network in the notebook: its Linear layers in call order,
the traced forward pass, and its outputs on fixed test images. A watch counts
optimizer steps and keeps what the first layer received. The grader

* grades the model the training loop optimised (and says which);
* rebuilds it and checks the rebuild reproduces the student's outputs: a
  784-256-128-64-10 ReLU network, ending in logits or, with a matching loss,
  LogSoftmax/Softmax;
* recovers the student's input preprocessing from what their pipeline
  produced and measures test accuracy itself, on the real test set, through
  that preprocessing (or, when it cannot be recovered, with the student's own
  test set, and says so); an interrupted or failed training run is named;
* finds the per-epoch losses in the data (any list, array, dict entry) or in
  the plotted lines, and the probability display by what the figures show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest

from checks import p4_network as network
from checks import p4_values as read
from checks.p4_comment import comment, figure_images, problem_cells
from checks.p4_figures import (
    ProbabilityFigure,
    plotted_curves,
    probability_figures,
    probability_problems,
    scale_of,
)
from checks.p4_inputs import Preprocessing, fit_affine, internal_affine
from checks.p4_losses import Series, curve_series, loss_series, plots
from checks.p4_training import TrainingNote, TrainingTrace, read_training, training_note
from checks.probes import P4_IMAGE_COUNT
from checks.scoring import CheckFailed, PartialCredit, skip_prerequisite
from dlgrade.data import load
from dlgrade.engine import NotebookRun
from dlgrade.engine.cells import cell_problem, why_undefined
from dlgrade.engine.config import QUICK_TEST_LIMIT, QUICK_TRAIN_LIMIT
from dlgrade.engine.notebooks import MalformedSource, load_notebook
from reference import fashion_mlp as ref

# Test accuracy: full credit at FULL or more, linear partial credit down to ZERO.
# Quick mode trains on 6000 images, so its band sits lower (an estimate only).
ACCURACY_BANDS = {False: (0.85, 0.75), True: (0.72, 0.60)}
REPORTED_TOLERANCE = 1.0  # percentage points
NEAR_CHANCE = 0.25  # an untrained 10-class network scores about 0.10


@pytest.fixture(scope="session")
def p4(notebooks) -> NotebookRun:
    problem = notebooks.get("p4")
    if problem.run is None:
        skip_prerequisite(problem.reason)
    return problem.run


@pytest.fixture(scope="session")
def p4_values(p4) -> dict:
    result = p4.probe("p4_model")
    if result.error and not result.values:
        skip_prerequisite(f"could not read the model from {p4.source.path.name}: {result.error}")
    return result.values


@pytest.fixture(scope="session")
def p4_cells(p4) -> set[int]:
    """The notebook cells of problem 4 (all of them unless the notebook holds others)."""
    return problem_cells(p4)[0]


@pytest.fixture(scope="session")
def trace(p4) -> TrainingTrace:
    return read_training(p4)


@pytest.fixture(scope="session")
def graded(p4, p4_values, trace) -> network.Choice:
    """The model the notebook trained (CheckFailed when there is none)."""
    found = network.candidates(p4_values)
    if not found:
        raise CheckFailed(
            "no torch.nn.Module with Linear layers was left in the notebook's globals "
            f"(keep the trained model in a variable such as `model`); {no_model_reason(p4)}"
        )
    return network.choose(found, trace.steps)


def no_model_reason(run: NotebookRun) -> str:
    clause = why_undefined(run, "model")
    if clause.startswith("no cell"):
        failed = [p for p in (cell_problem(c) for c in run.cells) if p]
        return failed[0] if failed else "no cell of the notebook builds a network"
    return f"`model` is not defined because {clause}"


# --- 4-arch -------------------------------------------------------------------------


def loss_kinds(values: dict, run: NotebookRun, cells: set[int]) -> set[str]:
    """'cross-entropy', 'nll', or other loss class names the training code uses."""
    kinds = set()
    for loss in read.records(values, "losses", "the notebook's loss functions"):
        name = read.text(loss, "type")
        if name:
            kinds.add({"CrossEntropyLoss": "cross-entropy", "NLLLoss": "nll"}.get(name, name))
    code = code_of(run, cells)
    if re.search(r"CrossEntropyLoss|\bcross_entropy\s*\(", code):
        kinds.add("cross-entropy")
    if re.search(r"NLLLoss|\bnll_loss\s*\(", code):
        kinds.add("nll")
    return kinds


def code_of(run: NotebookRun, cells: set[int]) -> str:
    try:
        notebook = load_notebook(run.source.path)
    except (MalformedSource, OSError):
        return ""
    return "\n".join(
        c.source
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code" and (not cells or i in cells)
    )


def loss_problem(output: str, kinds: set[str], code: str) -> str | None:
    """Why the training loss does not fit the network's output form (None when it does)."""
    if output == "probabilities" and "cross-entropy" in kinds:
        return (
            "the network ends with a softmax and is trained with CrossEntropyLoss, which applies "
            "softmax again (softmax applied twice): the loss is not the cross-entropy of the "
            "network's probabilities; end with the last Linear layer (or use LogSoftmax with NLLLoss)"
        )
    if output == "probabilities" and "nll" in kinds and not re.search(r"\blog\s*\(", code):
        return (
            "the network ends with a softmax and is trained with NLLLoss, which expects "
            "log-probabilities: take the log (LogSoftmax) before NLLLoss"
        )
    if output == "logits" and kinds == {"nll"}:
        return (
            "the network outputs raw scores (logits) but is trained with NLLLoss, which expects "
            "log-probabilities: add LogSoftmax or use CrossEntropyLoss"
        )
    return None


@pytest.mark.part("4-arch")
def test_architecture(p4, p4_values, p4_cells, graded, record):
    model = graded.candidate
    record.add("found", f"{graded.why}; forward pass: {model.ops_text()}")
    if model.error:
        raise CheckFailed(f"`{model.name}`: {model.error}")
    if model.shapes != network.expected_shapes():
        raise CheckFailed(
            f"`{model.name}` has Linear layers {model.layer_text()} (in the order the forward "
            f"pass calls them); expected {network.expected_text()}"
        )
    if model.outputs is None or model.outputs.shape != (P4_IMAGE_COUNT, 10):
        shape = None if model.outputs is None else model.outputs.shape
        raise CheckFailed(
            f"calling `{model.name}` on a batch of {P4_IMAGE_COUNT} test images did not give 10 "
            f"outputs per image (found shape {shape})"
        )
    rebuilt = network.rebuild(model)
    if rebuilt is None:
        raise CheckFailed(
            f"`{model.name}`'s outputs differ from a {network.expected_text()} network with ReLU "
            f"after each hidden layer; its forward pass: {model.ops_text()}"
        )
    wrong = [(k + 1, a) for k, a in enumerate(rebuilt.activations) if a != "relu"]
    if wrong:
        listed = ", ".join(f"{a} after Linear layer {k}" for k, a in wrong)
        raise CheckFailed(f"`{model.name}` uses {listed}; expected ReLU after each hidden layer")
    if rebuilt.output != "logits":
        record.add("note", f"the network outputs {rebuilt.output}")
    problem = loss_problem(
        rebuilt.output, loss_kinds(p4_values, p4, p4_cells), code_of(p4, p4_cells)
    )
    if problem:
        # The assignment asks for a network trained with cross-entropy.
        raise CheckFailed(f"the layers are right, but {problem}")


# --- 4-acc --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    accuracy: float
    how: str  # how it was measured, for the student
    fallback: str | None  # why the student's own test set was used instead
    note: TrainingNote | None


@pytest.fixture(scope="session")
def measured(p4, p4_values, trace, graded, quick) -> Measured:
    model = graded.candidate
    fashion = load("fashion-mnist")
    rebuilt = network.rebuild(model) if model.error is None else None
    reasons = []
    if rebuilt is None:
        reasons.append(f"`{model.name}` could not be rebuilt from its layers ({model.ops_text()})")
        preprocessing = None
    else:
        preprocessing = infer_preprocessing(p4_values, trace, model, fashion, quick, reasons)
    if rebuilt is not None and preprocessing is not None:
        logits = network.forward(model, preprocessing.apply(fashion.x_test), rebuilt.activations)
        accuracy = float(np.mean(logits.argmax(axis=1) == fashion.y_test))
        how = (
            f"measured by the grader on the {len(fashion.y_test)} test images, through the "
            f"student's preprocessing: {preprocessing.describe()} ({preprocessing.source})"
        )
        fallback = None
    elif model.own is not None:
        accuracy = model.own.accuracy
        fallback = "; ".join(reasons)
        how = (
            f"measured by running `{model.name}` on the student's own test set "
            f"`{model.own.dataset}` ({model.own.total} images), because the grader could not "
            f"infer the input preprocessing"
        )
    else:
        raise CheckFailed(
            "the grader could not measure the test accuracy: "
            + "; ".join(reasons + [model.own_error or "no test dataset was found in the notebook"])
        )
    train, _ = loss_series(p4_values)
    note = training_note(
        p4,
        trace,
        model.weight_ids,
        len(train.values) if train else None,
        batches_per_epoch(p4_values),
        accuracy < NEAR_CHANCE,
    )
    return Measured(accuracy, how, fallback, note)


def infer_preprocessing(
    values: dict, trace: TrainingTrace, model, fashion, quick: bool, reasons: list[str]
) -> Preprocessing | None:
    """The affine preprocessing the student's pipeline applied, from the best evidence."""
    train_raw = flat(fashion.x_train[: QUICK_TRAIN_LIMIT if quick else None])
    test_raw = flat(fashion.x_test[: QUICK_TEST_LIMIT if quick else None])
    seen = [
        (
            "train",
            "read from the inputs the first layer received during training",
            train_raw,
            test_raw,
        ),
        (
            "eval",
            "read from the inputs the first layer received in evaluation",
            test_raw,
            train_raw,
        ),
    ]
    for mode, source, first, second in seen:
        rows = trace.inputs(model.weight_ids, mode)
        if rows is None:
            continue
        fitted = fit_affine(rows, first)
        if isinstance(fitted, str):
            fitted = fit_affine(rows, second)
        if not isinstance(fitted, str):
            return Preprocessing(*fitted, source)
        reasons.append(f"inputs seen in {mode}: {fitted}")
    fed = flat(fashion.x_test[:P4_IMAGE_COUNT]) / 255.0
    inside = internal_affine(model.first_input, fed)
    for name, samples, is_test in dataset_samples(values):
        fitted = fit_affine(samples, test_raw if is_test else train_raw)
        if isinstance(fitted, str):
            fitted = fit_affine(samples, train_raw if is_test else test_raw)
        if isinstance(fitted, str):
            reasons.append(f"items of `{name}`: {fitted}")
            continue
        if inside is None:
            reasons.append(f"`{model.name}` transforms its input before the first layer")
            break
        return Preprocessing(*fitted, f"read from items of `{name}`").then(*inside)
    if not reasons:
        reasons.append("no input the network received and no dataset was found")
    return None


def flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images).reshape(len(images), -1)


def dataset_samples(values: dict) -> list[tuple[str, np.ndarray, bool]]:
    """(name, 784-value items, is a test set) for each dataset the probe sampled, tests first."""
    found = []
    for index, facts in enumerate(read.records(values, "datasets", "the notebook's datasets")):
        key = f"d{index}_x"
        if key not in values:
            continue
        try:
            samples = read.array(values, key, f"items of dataset {index + 1}", shape=(None, 784))
        except CheckFailed:
            continue  # a dataset with NaN items cannot tell its preprocessing; others may
        names = [n for n in facts.get("names") or [] if isinstance(n, str)] or ["?"]
        is_test = facts.get("train") is False or any(
            w in n.lower() for n in names for w in ("test", "val")
        )
        found.append((names[0], samples, is_test))
    return sorted(found, key=lambda f: not f[2])


def batches_per_epoch(values: dict) -> int | None:
    """Batches in the training loader (to turn optimizer steps into epochs)."""
    for facts in read.records(values, "datasets", "the notebook's datasets"):
        names = " ".join(n for n in facts.get("names") or [] if isinstance(n, str)).lower()
        batches = facts.get("batches")
        if (
            isinstance(batches, int)
            and batches > 0
            and (facts.get("train") is True or "train" in names)
        ):
            return batches
    return None


@pytest.mark.part("4-acc")
def test_test_accuracy(measured, quick, record):
    full, zero = ACCURACY_BANDS[quick]
    accuracy = measured.accuracy
    record.add("found", f"test accuracy {accuracy:.2%}, {measured.how}")
    notes = []
    if measured.fallback:
        notes.append(f"fallback to the student's own test set: {measured.fallback}")
    if measured.note:
        notes.append(measured.note.message)
    if quick:
        notes.append("quick mode: the notebook trained on 6000 images, so this is an estimate")
    if notes:
        record.add("note", "; ".join(notes))
    if accuracy >= full:
        return
    fraction = max(0.0, (accuracy - zero) / (full - zero))
    message = f"test accuracy {accuracy:.2%} ({measured.how}); full credit from {full:.0%}, partial credit from {zero:.0%}"
    if measured.note:
        message = f"{message}. {measured.note.message[0].upper()}{measured.note.message[1:]}"
    raise PartialCredit(fraction, message) if fraction > 0 else CheckFailed(message)


# --- 4-curves -----------------------------------------------------------------------


@pytest.mark.part("4-curves")
def test_loss_curves(p4, p4_values, p4_cells, record):
    curves = tuple(plotted_curves(p4.figures, p4_cells or None))
    train, test = loss_series(p4_values, curves)
    source = "the notebook's variables"
    if train is None and test is None:
        train, test = curve_series(curves)
        source = "the plotted lines"
    if train is None and test is None:
        names = ", ".join(sorted(read.series(p4_values))[:12]) or "none"
        raise CheckFailed(
            "per-epoch train and test losses were not found, neither in a list, array or dict "
            "of one value per epoch nor in a plotted line over epochs (lists of numbers found: "
            f"{names}){failed_cells(p4, p4_cells)}"
        )
    found = [f"{role} loss: {s.describe()}" for role, s in (("train", train), ("test", test)) if s]
    shown = {
        role: s.source == "figure" or plots(s, curves, role) is not None
        for role, s in (("train", train), ("test", test))
        if s
    }
    record.add("found", f"from {source}: " + "; ".join(found))
    record.add("plot", _plot(train, test))
    if train is not None and not train.values[-1] < train.values[0]:
        raise CheckFailed(
            f"training loss does not fall: {train.describe()} goes from {train.values[0]:.4g} "
            f"to {train.values[-1]:.4g}"
        )
    missing = [role for role, s in (("train", train), ("test", test)) if s is None]
    if missing:
        raise PartialCredit(0.5, f"only one curve was found: no per-epoch {missing[0]} loss")
    if not all(shown.values()):
        unplotted = " and ".join(role for role, ok in shown.items() if not ok)
        raise PartialCredit(
            0.5,
            f"the {unplotted} loss was found ({'; '.join(found)}), but no figure plots it over epochs",
        )


def _plot(train: Series | None, test: Series | None) -> dict:
    series = {
        f"{role}: {s.name}": list(s.values) for role, s in (("train", train), ("test", test)) if s
    }
    return {
        "title": "Loss per epoch (the student's own values)",
        "xlabel": "epoch",
        "ylabel": "loss",
        "series": series,
    }


# --- 4-probs ------------------------------------------------------------------------

_CLASS_WORD = re.compile(
    "|".join(re.escape(n.split("/")[0]) for n in ref.CLASS_NAMES) + r"|prob", re.IGNORECASE
)
_NUMBER = re.compile(r"\b0?\.\d+|\d\s?%|\d\.\d+e-\d")
_NOT_PROBABILITY = re.compile(r"accura|loss|epoch", re.IGNORECASE)


def printed_probabilities(run: NotebookRun, cells: set[int]) -> str | None:
    """'cell 12 printed "Trouser 0.0001"' when class probabilities were printed, else None."""
    for cell in run.cells:
        if cells and cell.index not in cells:
            continue
        for line in cell.text.splitlines():
            if (
                _CLASS_WORD.search(line)
                and _NUMBER.search(line)
                and not _NOT_PROBABILITY.search(line)
            ):
                return f"cell {cell.index + 1} printed {line.strip()[:100]!r}"
    return None


@pytest.mark.part("4-probs")
def test_probability_figure(p4, p4_cells, record):
    displays = probability_figures(p4.figures, p4_cells or None)
    if not displays or displays[0].shown == 0:
        printed = printed_probabilities(p4, p4_cells)
        text = (
            f"; the probabilities were only printed as text ({printed}), but the assignment asks "
            "for a figure"
            if printed
            else ""
        )
        raise CheckFailed(
            "no figure shows test images with their predicted class probabilities "
            f"({len(p4.figures)} figure(s) recorded); draw 3 test images, each with a bar chart "
            f"of its softmax probabilities over the 10 classes{text}{failed_cells(p4, p4_cells)}"
        )
    best: ProbabilityFigure = displays[0]
    scales = {scale_of(d.values) for d in best.distributions} - {None}
    record.add(
        "found",
        f"{best.where()}: {best.images} test image(s) and {len(best.distributions)} distribution(s) "
        f"over the 10 classes ({', '.join(sorted({d.kind for d in best.distributions}))}"
        + (f"; {', '.join(sorted(scales))}" if scales else "")
        + ")",
    )
    for k, dist in enumerate(best.distributions):
        problems = probability_problems(dist.values)
        if problems:
            raise CheckFailed(
                f"the values drawn for image {k + 1} ({best.where()}) are not probabilities: "
                f"{' and '.join(problems)}. These look like raw model outputs (logits); apply "
                "softmax before plotting"
            )
    if best.shown < 3:
        raise PartialCredit(
            best.shown / 3,
            f"{best.where()} shows {best.shown} test image(s) with their probabilities; expected 3",
        )


def failed_cells(run: NotebookRun, cells: set[int]) -> str:
    """'; cell 8 (`...`) raised SyntaxError: …' for the problem's cells that did not run cleanly."""
    problems = [cell_problem(c) for c in run.cells if not cells or c.index in cells]
    problems = [p for p in problems if p]
    return "; " + "; ".join(problems[:3]) if problems else ""


# --- 4-reported (spring) ------------------------------------------------------------


def reported_problem(reported: float, measured: Measured) -> str | None:
    """Why the reported accuracy (in %) does not stand for the model graded (None if it does)."""
    found = 100 * measured.accuracy
    if abs(reported - found) <= REPORTED_TOLERANCE:
        return None
    message = (
        f"answers.toml reports a test accuracy of {reported:.2f} %, but the model the notebook "
        f"trains reaches {found:.2f} % ({measured.how}; must agree within "
        f"{REPORTED_TOLERANCE:g} point)"
    )
    if measured.note:
        message += f"; note: {measured.note.message}"
    return message


@pytest.mark.part(spring2023="4-reported")
def test_reported_accuracy(answers, part, measured, quick, record):
    if quick:
        skip_prerequisite(
            "quick mode trains on a slice, so the reported accuracy cannot be compared"
        )
    reported = answers.reported_test_accuracy(part.id)
    record.add("found", f"reported {reported:.2f} %, measured {measured.accuracy:.2%}")
    if measured.note and measured.note.kind == "interrupted":
        raise CheckFailed(f"the reported accuracy cannot be compared: {measured.note.message}")
    problem = reported_problem(reported, measured)
    if problem:
        raise CheckFailed(problem)


# --- 4-comment ----------------------------------------------------------------------


@pytest.mark.part("4-comment")
def test_comment_for_review(p4, p4_cells, record):
    text, where = comment(p4, p4.figures)
    record.add("text", text or "(no markdown comment found in the problem-4 part of the notebook)")
    record.add("found", where)
    displays = probability_figures(p4.figures, p4_cells or None)
    first = displays[0].figures if displays else ()
    images = figure_images(p4.figures, p4_cells, first)
    if images:
        record.add("images", images)
    if not text:
        raise CheckFailed(f"{p4.source.path.name} has no markdown comment on the results ({where})")
