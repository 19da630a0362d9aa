"""Problem 4's test accuracy, measured by the grader on the student's own trained weights.

The graded network is rebuilt from its weights (checks.p4_network) and run on
the real test set through the student's preprocessing, recovered from what
their pipeline produced (checks.p4_inputs): the inputs the first layer
received during training, else in evaluation, else items of their datasets
(composed with any affine map the model applies before its first layer).
When the preprocessing cannot be recovered, or the network cannot be
rebuilt, the accuracy is the one the probe measured by running the student's
model on the student's own test set, and the result says so. A training run
cut short or never run is named (checks.p4_training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from checks import p4_network as network
from checks import p4_values as read
from checks.p4_inputs import Preprocessing, fit_affine, internal_affine
from checks.p4_losses import loss_series
from checks.p4_training import TrainingNote, TrainingTrace, training_note
from checks.probes import P4_IMAGE_COUNT
from checks.scoring import CheckFailed
from dlgrade.data import load
from dlgrade.engine import NotebookRun
from dlgrade.engine.config import QUICK_TEST_LIMIT, QUICK_TRAIN_LIMIT

NEAR_CHANCE = 0.25  # an untrained 10-class network scores about 0.10
REPORTED_TOLERANCE = 1.0  # percentage points


@dataclass(frozen=True)
class Measured:
    accuracy: float
    how: str  # how it was measured, for the student
    fallback: str | None  # why the student's own test set was used instead
    note: TrainingNote | None


def measure(
    run: NotebookRun, values: dict, trace: TrainingTrace, graded: network.Choice, quick: bool
) -> Measured:
    """The graded model's test accuracy, measured by the grader, and how (see the module)."""
    model = graded.candidate
    fashion = load("fashion-mnist")
    rebuilt = network.rebuild(model) if model.error is None else None
    reasons = []
    if rebuilt is None:
        reasons.append(f"`{model.name}` could not be rebuilt from its layers ({model.ops_text()})")
        preprocessing = None
    else:
        preprocessing = infer_preprocessing(values, trace, model, fashion, quick, reasons)
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
    train, _ = loss_series(values)
    note = training_note(
        run,
        trace,
        model.weight_ids,
        len(train.values) if train else None,
        batches_per_epoch(values),
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
