"""Problem 5 in a real sandboxed kernel: the `p5_weights` watch and the probes together.

Small student-style notebooks (200 training images) check what unit tests
cannot: the initial weights are kept when the set becomes complete, the
starter's layout (train_one_epoch defined and called in one cell) still
yields every epoch, probes leave the notebook's state as they found it, and
the Q4 probe trains again only when the notebook did not train to the end.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from notebook_files import write_notebook

from checks.p5_values import weight_history
from checks.probes import P5_WATCH, p5_probes, p5_watches
from dlgrade.engine import SandboxConfig, run_notebook
from dlgrade.engine.records import SourceFile
from reference import numpy_backprop as ref

pytestmark = pytest.mark.slow
CONFIG = SandboxConfig(quick=True, cell_timeout_s=120, notebook_timeout_s=300)

LOAD = """import tensorflow as tf
import numpy as np
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(path="mnist.npz")
x_train, y_train = x_train[:200], y_train[:200]"""
HELPERS = """def sigmoid(x):
    x = np.clip(x, -500, 500)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))

def dsigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))

def softmax(x):
    y = np.exp(x - x.max())
    return y / y.sum()

def cross_entropy_loss(y, yHat):
    return -np.sum(y * np.log(yHat))

def integer_to_one_hot(x, max):
    result = np.zeros(10)
    result[x] = 1
    return result"""
DECLARE = """from numpy.random import default_rng
rng = default_rng(80085)
weights = []
biases = []"""
FILL = """for n_in, n_out in ((784, 32), (32, 32), (32, 10)):
    weights.append(rng.normal(0, 1 / np.sqrt(max(n_in, n_out)), size=(n_in, n_out)))
    biases.append(np.zeros(n_out))"""
FORWARD = """def feed_forward_sample(sample, y):
    a = sample.flatten()
    for i in range(3):
        z = a @ weights[i] + biases[i]
        a = sigmoid(z) if i < 2 else softmax(z)
    return cross_entropy_loss(integer_to_one_hot(y, 10), a), integer_to_one_hot(np.argmax(a), 10)

def feed_forward_dataset(x, y):
    losses = [feed_forward_sample(s, t)[0] for s, t in zip(x, y)]
    right = sum(np.argmax(feed_forward_sample(s, t)[1]) == t for s, t in zip(x, y))
    print("Average loss:", np.round(np.mean(losses), 2))
    print("Accuracy:", right, "/", len(y))"""
TRAIN_SAMPLE = """def train_one_sample(sample, y, learning_rate=0.003):
    acts = [sample.flatten()]
    for i in range(3):
        z = acts[-1] @ weights[i] + biases[i]
        acts.append(sigmoid(z) if i < 2 else softmax(z))
    delta = acts[-1] - integer_to_one_hot(y, 10)
    grads = [None] * 3
    for i in reversed(range(3)):
        grads[i] = (np.outer(acts[i], delta), delta)
        if i > 0:
            delta = (weights[i] @ delta) * acts[i] * (1 - acts[i])
    for i in range(3):
        weights[i] -= grads[i][0] * learning_rate
        biases[i] -= grads[i][1] * learning_rate"""
EPOCHS_IN_ONE_CELL = """def train_one_epoch(learning_rate=0.003):
    for j in range(len(x_train)):
        train_one_sample(x_train[j], y_train[j], learning_rate)

for i in range(3):
    train_one_epoch()"""
P3_AFTER = "from scipy.optimize import fsolve\nfit = [1.0] * 13"


def notebook(folder: Path, *cells: str, problems=("p5",)) -> SourceFile:
    path = write_notebook(folder / "hw1_prob5.ipynb", *cells)
    return SourceFile(path, "ipynb", "ok", problem_ids=problems)


def run(source: SourceFile, retrain: bool = False, config: SandboxConfig = CONFIG):
    probes = [replace(p, problem="p5") for p in p5_probes(retrain=retrain)]
    return run_notebook(source, probes, config, watches=p5_watches())


def bare_training(epochs: int = 3) -> list[ref.Params]:
    """What the notebook computes, by the reference (its code is the reference's math)."""
    from dlgrade.data import load

    mnist = load("mnist")
    params, after = ref.init_params(), []
    for _ in range(epochs):
        for x, y in zip(mnist.x_train[:200], mnist.y_train[:200], strict=True):
            params, _ = ref.step(params, x, int(y))
        after.append(params)
    return after


def test_the_starters_layout_keeps_init_and_every_epoch_and_probes_restore_state(tmp_path):
    source = notebook(
        tmp_path / "s",
        LOAD,
        HELPERS,
        DECLARE,
        FILL,
        FORWARD,
        TRAIN_SAMPLE,
        EPOCHS_IN_ONE_CELL,
        P3_AFTER,
        problems=("p3", "p5"),
    )
    done = run(source)
    assert [c.status for c in done.cells] == ["ok"] * 8, done.cells
    history = weight_history(done.kept(P5_WATCH))
    # `weights = []` was declared in cell 2 and filled in cell 3: init is the state after 3.
    assert history.init is not None and history.init.cell == 3
    np.testing.assert_array_equal(history.init.params.weights[0], ref.init_params().weights[0])
    # train_one_epoch was defined and called in one cell, yet all three epochs were kept;
    # and nothing else: the P5 probes ran right after cell 6 (a P3 cell follows) and a
    # probe that did not restore the weights would show as a change after cell 7.
    assert [(s.cell, s.event, s.epochs) for s in history.later] == [
        (6, "epoch", 1),
        (6, "epoch", 2),
        (6, "epoch", 3),
    ]
    assert history.epochs[0].seen == "when the next epoch started"
    for kept, expected in zip(history.epochs, bare_training(), strict=True):
        np.testing.assert_allclose(kept.params.weights[2], expected.weights[2], rtol=1e-9)
    assert done.probes["p5_q4"].values["decision"] == "notebook"
    assert "p5_q3_raw" in done.probes and not done.probes["p5_q3_raw"].error


def test_training_cut_by_the_time_limit_is_done_again_by_the_grader(tmp_path):
    interrupted = EPOCHS_IN_ONE_CELL.replace(
        "for i in range(3):\n    train_one_epoch()",
        "train_one_epoch()\nimport time\nwhile slow:\n    train_one_sample(x_train[0], y_train[0])",
    )
    source = notebook(
        tmp_path / "s",
        LOAD,
        HELPERS,
        DECLARE + "\nslow = True",
        FILL,
        FORWARD,
        TRAIN_SAMPLE,
        interrupted,
        "slow = False",
    )
    config = replace(CONFIG, cell_timeout_s=20)
    done = run(source, config=config)
    assert done.cells[6].status == "timeout"
    values = done.probes["p5_q4"].values
    assert values["decision"] == "retrain", values
    assert "did not finish" in values["reason"] and "interrupted" in values["reason"]
    assert all(f"e{e}_w0" in values for e in range(3))


def test_a_finished_training_is_trained_again_only_when_asked(tmp_path):
    cells = (LOAD, HELPERS, DECLARE, FILL, FORWARD, TRAIN_SAMPLE, EPOCHS_IN_ONE_CELL)
    done = run(notebook(tmp_path / "s", *cells), retrain=True)
    values = done.probes["p5_q4"].values
    assert values["decision"] == "retrain" and "--retrain" in values["reason"]
    # the grader's epochs start from the grader's init: epoch 1 is the reference's epoch 1
    first = ref.init_params()
    for x, y in zip(*_slice(), strict=True):
        first, _ = ref.step(first, x, int(y))
    np.testing.assert_allclose(values["e0_w2"], first.weights[2], rtol=1e-9)
    # the notebook's own training is still what the watch kept
    assert len(weight_history(done.kept(P5_WATCH)).epochs) == 3


def test_a_notebook_that_never_trained_is_trained_by_the_grader(tmp_path):
    defined_only = EPOCHS_IN_ONE_CELL.split("\n\nfor")[0]
    cells = (LOAD, HELPERS, DECLARE, FILL, FORWARD, TRAIN_SAMPLE, defined_only)
    done = run(notebook(tmp_path / "s", *cells))
    values = done.probes["p5_q4"].values
    assert values["decision"] == "retrain"
    assert values["reason"] == "no call of train_one_epoch was seen in the notebook"
    assert weight_history(done.kept(P5_WATCH)).epochs == ()


def _slice():
    from dlgrade.data import load

    mnist = load("mnist")
    return mnist.x_train[:200], mnist.y_train[:200]


def test_one_epoch_run_in_the_cell_that_defines_it_is_seen_when_the_cell_ends(tmp_path):
    once = EPOCHS_IN_ONE_CELL.replace(
        "for i in range(3):\n    train_one_epoch()", "train_one_epoch()"
    )
    cells = (LOAD, HELPERS, DECLARE, FILL, FORWARD, TRAIN_SAMPLE, once)
    done = run(notebook(tmp_path / "s", *cells))
    epochs = weight_history(done.kept(P5_WATCH)).epochs
    assert [(s.cell, s.epochs, s.seen) for s in epochs] == [(6, 1, "when the cell ended")]
    np.testing.assert_allclose(
        epochs[0].params.weights[0], bare_training(1)[0].weights[0], rtol=1e-9
    )
    assert done.probes["p5_q4"].values["decision"] == "notebook"
