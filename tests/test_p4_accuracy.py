"""Problem-4 accuracy: measured through the preprocessing the evidence shows, or, when no
evidence fits, on the student's own test set, and said so.

The probe values are built from the real FashionMNIST test images (the
`cache` fixture), as a student's pipeline would deliver them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from notebook_files import write_notebook

from checks import p4_network as network
from checks.p4_accuracy import measure
from checks.p4_training import TrainingTrace
from checks.probes import P4_IMAGE_COUNT
from dlgrade.data import load
from dlgrade.engine import CellResult, NotebookRun
from dlgrade.engine.records import SourceFile

MEAN, STD = 0.2860, 0.3530


@pytest.fixture(scope="module")
def fashion(cache):
    return load("fashion-mnist", data_dir=cache)


def run_of(tmp_path: Path) -> NotebookRun:
    path = write_notebook(tmp_path / "hw1p4.ipynb", "x = 1")
    return NotebookRun(
        SourceFile(path, "ipynb", "ok", ("p4",)), "ok", (CellResult(0, "ok"),), {}, (), (), "", 0.0
    )


def linear_classifier(fashion, scale: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """A one-layer 784 -> 10 model fitted (least squares on one-hot labels) to inputs
    scale * pixel + shift: it scores well only through that preprocessing."""
    x = fashion.x_train[:3000].reshape(3000, -1).astype(np.float64) * scale + shift
    design = np.hstack([x, np.ones((len(x), 1))])
    targets = np.eye(10)[fashion.y_train[:3000]]
    solution, *_ = np.linalg.lstsq(design, targets, rcond=None)
    return solution[:-1].T, solution[-1]


def values_for(fashion, weight, bias, items: np.ndarray | None, own=None) -> dict:
    fed = fashion.x_test[:P4_IMAGE_COUNT].reshape(P4_IMAGE_COUNT, -1) / 255.0
    model = {"name": "model", "params": 7850, "weight_ids": [5], "optimizers": ["opt"],
             "ops": ["Flatten", "Linear(784,10)"], "trace": "fx"}  # fmt: skip
    if own is not None:
        model["own"] = own
    values = {
        "models": [model],
        "m0_w0": weight,
        "m0_b0": bias,
        "m0_in": fed,
        "m0_out": fed @ weight.T + bias,
        "datasets": [
            {"names": ["test_data", "test_loader"], "train": False, "type": "FashionMNIST"}
        ],
    }
    if items is not None:
        values["d0_x"] = items
    return values


def test_dataset_items_reveal_a_normalize_transform(fashion, tmp_path):
    weight, bias = linear_classifier(fashion, 1 / (255 * STD), -MEAN / STD)
    items = (fashion.x_test[:8].reshape(8, -1) / 255.0 - MEAN) / STD
    values = values_for(fashion, weight, bias, items)
    graded = network.choose(network.candidates(values), None)
    measured = measure(run_of(tmp_path), values, TrainingTrace(None, None), graded, quick=True)
    assert measured.fallback is None
    assert "(x - 0.286) / 0.353 (read from items of `test_data`)" in measured.how
    # the same model measured on plain x / 255 scores far lower: the preprocessing matters
    plain = fashion.x_test.reshape(len(fashion.x_test), -1) / 255.0
    wrong = np.mean((plain @ weight.T + bias).argmax(axis=1) == fashion.y_test)
    assert measured.accuracy > 0.7 and wrong < 0.2


def test_without_usable_evidence_the_students_own_test_set_is_used_and_named(fashion, tmp_path):
    weight, bias = linear_classifier(fashion, 1 / 255, 0.0)
    flipped = fashion.x_test[:8, :, ::-1].reshape(8, -1) / 255.0  # a random flip in the transform
    own = {"dataset": "test_data", "correct": 812, "total": 1000}
    values = values_for(fashion, weight, bias, flipped, own)
    graded = network.choose(network.candidates(values), None)
    measured = measure(run_of(tmp_path), values, TrainingTrace(None, None), graded, quick=True)
    assert measured.accuracy == pytest.approx(0.812)
    assert "own test set `test_data` (1000 images)" in measured.how
    assert "items of `test_data`: the rows are not an affine copy" in measured.fallback


def test_the_first_layers_inputs_win_over_dataset_items(fashion, tmp_path):
    """Normalised by hand in the loop: the dataset says x / 255, the first layer saw more."""
    weight, bias = linear_classifier(fashion, 2 / 255, -1.0)
    items = fashion.x_test[:8].reshape(8, -1) / 255.0
    seen = fashion.x_train[100:108].reshape(8, -1) * (2 / 255) - 1.0
    trace = TrainingTrace(0, {5: 94}, {1: {5: 94}}, {(5, "train"): seen})
    values = values_for(fashion, weight, bias, items)
    graded = network.choose(network.candidates(values), trace.steps)
    measured = measure(run_of(tmp_path), values, trace, graded, quick=True)
    assert "(x - 0.5) / 0.5 (read from the inputs the first layer received during training)" in (
        measured.how
    )
    assert measured.accuracy > 0.7
