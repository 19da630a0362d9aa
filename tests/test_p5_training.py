"""Problem 5 judged on the student's own training and precision.

Q1 judges the network the first training call receives; Q3 holds a student
who computes in float32 to float32 rounding and never calls a factor of 1 a
mistake; Q4 reads epochs from returned arrays, re-trains by the notebook's
own call, and finds scaled inputs by their content. Kernel tests run small
student-style notebooks (200 training images) in a real sandboxed kernel.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.random import default_rng
from test_p5_kernel import (
    FORWARD,
    HELPERS,
    LOAD,
    TRAIN_SAMPLE,
    _slice,
    bare_training,
    notebook,
    run,
)

from checks.p5_judging import matched_transform, row_index, update_error, update_rtol
from checks.p5_training import Precision, first_sample, precision, training_start
from checks.p5_values import weight_history
from checks.probes import P5_WATCH
from reference import numpy_backprop as ref

INIT = """from numpy.random import default_rng
rng = default_rng(80085)
weights, biases = [], []
for n_in, n_out in ((784, 32), (32, 32), (32, 10)):
    weights.append(rng.normal(0, 1 / np.sqrt(max(n_in, n_out)), size=(n_in, n_out)))
    biases.append(np.zeros(n_out))"""
TRAIN_EPOCH = """def train_one_epoch(learning_rate=0.003):
    for j in range(len(x_train)):
        train_one_sample(x_train[j], y_train[j], learning_rate)"""


def _f32(params: ref.Params) -> ref.Params:
    return ref.Params(
        tuple(w.astype(np.float32) for w in params.weights),
        tuple(b.astype(np.float32) for b in params.biases),
        params.orientation,
    )


def _f64(params: ref.Params) -> ref.Params:
    return ref.Params(
        tuple(w.astype(np.float64) for w in params.weights),
        tuple(b.astype(np.float64) for b in params.biases),
        params.orientation,
    )


# --- Q3: precision ----------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1 / 255])
def test_a_float32_step_is_right_to_float32_rounding_and_no_closer(scale):
    from dlgrade.data import load

    mnist = load("mnist")
    start = ref.init_params()
    for k in range(4):
        x, label = mnist.x_test[k] * scale, int(mnist.y_test[k])
        expected, _ = ref.step(start, x, label)
        # the whole step in float32: weights, sample and every intermediate
        found = _f64(ref.step(_f32(start), x.astype(np.float32), label)[0])
        assert update_error(start, found, expected) > update_rtol("float64")
        assert update_error(start, found, expected, "float32") <= update_rtol("float32")
        # a known mistake stays far outside the float32 tolerance
        wrong = ref.Params(
            tuple(s + (e - s) / 28 for s, e in zip(start.weights, expected.weights, strict=True)),
            expected.biases,
        )
        assert update_error(start, _f64(_f32(wrong)), expected, "float32") > 0.5


def test_the_narrowest_float_the_notebook_holds_sets_the_precision():
    assert Precision(("float64", "uint8")).lowest == "float64"
    assert Precision(("float64", "float32", "int64")).lowest == "float32"
    assert Precision(("list", "", "object", "M8[xx]")).lowest == "float64"
    assert Precision(("float128", "f2")).lowest == "float16"
    assert update_rtol("float32") > 1e-4 > update_rtol("float64")


def test_an_update_one_times_the_correct_one_is_not_called_a_constant_factor():
    from checks.p5_update import q3_message

    x = default_rng(3).integers(0, 256, size=(28, 28)) / 255
    start = ref.init_params()
    expected, _ = ref.step(start, x, 4)
    # float32 rounding of the sample: the step is 1.0000000002 times the right one
    found, _ = ref.step(start, x.astype(np.float32), 4)
    message = q3_message(start, found, x, 4, "scaled test sample 0")
    assert "constant factor" not in message and "1 times" not in message
    assert "differs from correct backprop" in message


# --- Q4: inputs found by content ----------------------------------------------------


def test_shuffled_scaled_rows_are_matched_to_their_images_by_content():
    from dlgrade.data import load

    raw = load("mnist").x_train.reshape(-1, 784)[:5000]
    index = row_index(raw)
    order = default_rng(1).permutation(len(raw))[:8]
    assert matched_transform(raw[order] / 255.0, raw, index) == (1 / 255, 0.0)
    assert matched_transform(raw[order].astype(float), raw, index) == (1.0, 0.0)
    a, b = matched_transform((raw[order] - 33.3) / 78.6, raw, index)
    assert a == pytest.approx(1 / 78.6) and b == pytest.approx(-33.3 / 78.6)
    noise = default_rng(2).random((8, 784))
    assert matched_transform(noise, raw, index) is None


# --- The watch: the start of training, returned arrays -------------------------------


@pytest.mark.slow
def test_q1_sees_the_network_the_training_received_not_an_earlier_placeholder(tmp_path):
    placeholder = """import numpy as np
weights = [np.zeros((784, 32)), np.zeros((32, 32)), np.zeros((32, 10))]
biases = [np.zeros(32), np.zeros(32), np.zeros(10)]"""
    load_scaled = LOAD + "\nx_train = x_train.astype(np.float32) / 255"
    cells = (load_scaled, HELPERS, placeholder, FORWARD, TRAIN_SAMPLE, TRAIN_EPOCH)
    reset_and_train = INIT + "\nfor i in range(3):\n    train_one_epoch()"
    done = run(notebook(tmp_path / "s", *cells, reset_and_train))
    assert [c.status for c in done.cells] == ["ok"] * 7, done.cells
    kept = done.kept(P5_WATCH)
    # the first complete set is the placeholder; the training started from the real init
    assert not np.any(weight_history(kept).init.params.weights[0])
    start = training_start(kept)
    assert start is not None and start.snapshot.cell == 6
    np.testing.assert_array_equal(start.snapshot.params.weights[0], ref.init_params().weights[0])
    # the training's own samples tell the precision and the input scale
    assert precision(kept).lowest == "float32"
    x = _slice()[0][0].reshape(784)
    np.testing.assert_allclose(first_sample(kept), (x.astype(np.float32) / 255), rtol=0)


# Updates each layer right after its delta has used it: the reference's step, on `net` when given.
RETURNING = """def train_one_sample(sample, y, learning_rate=0.003, net=None):
    ws, bs = net if net is not None else (weights, biases)
    acts = [sample.flatten()]
    for i in range(3):
        z = acts[-1] @ ws[i] + bs[i]
        acts.append(sigmoid(z) if i < 2 else softmax(z))
    delta = acts[-1] - integer_to_one_hot(y, 10)
    for i in reversed(range(3)):
        grad_w, grad_b = np.outer(acts[i], delta), delta
        if i > 0:
            delta = (ws[i] @ delta) * acts[i] * (1 - acts[i])
        ws[i] -= grad_w * learning_rate
        bs[i] -= grad_b * learning_rate"""


@pytest.mark.slow
def test_epochs_returned_as_new_arrays_are_not_judged_one_epoch_behind(tmp_path):
    # Each epoch trains copies and returns them; the names are rebound only after it returns.
    epochs = """def train_one_epoch(learning_rate=0.003):
    ws, bs = [w.copy() for w in weights], [b.copy() for b in biases]
    for j in range(len(x_train)):
        train_one_sample(x_train[j], y_train[j], learning_rate, (ws, bs))
    return ws, bs

for i in range(3):
    weights, biases = train_one_epoch()"""
    cells = (LOAD, HELPERS, INIT, FORWARD, RETURNING, epochs)
    done = run(notebook(tmp_path / "s", *cells))
    assert [c.status for c in done.cells] == ["ok"] * 6, done.cells
    history = weight_history(done.kept(P5_WATCH))
    assert len(history.epochs) == 3
    for kept, expected in zip(history.epochs, bare_training(), strict=True):
        np.testing.assert_allclose(kept.params.weights[2], expected.weights[2], rtol=1e-9)


@pytest.mark.slow
def test_the_grader_retrains_by_the_notebooks_own_call(tmp_path):
    epochs = """def train_one_epoch(ws, bs, xs, ys, learning_rate=0.003):
    ws, bs = [w.copy() for w in ws], [b.copy() for b in bs]
    for j in range(len(xs)):
        train_one_sample(xs[j], ys[j], learning_rate, (ws, bs))
    return ws, bs

config = {"lr": 0.003}
for i in range(3):
    weights, biases = train_one_epoch(weights, biases, x_train, y_train, learning_rate=config["lr"])
trained = weights"""
    cells = (LOAD, HELPERS, INIT, FORWARD, RETURNING, epochs)
    done = run(notebook(tmp_path / "s", *cells), retrain=True)
    values = done.probes["p5_q4"].values
    assert values["decision"] == "retrain" and "error" not in values, values
    for e, expected in enumerate(bare_training()):
        np.testing.assert_allclose(values[f"e{e}_w2"], expected.weights[2], rtol=1e-9)


@pytest.mark.slow
def test_a_notebook_that_never_trained_is_judged_on_its_scaled_copy_by_content(tmp_path):
    from checks.p5_trained import held_transform

    copies = """order = np.random.default_rng(5).permutation(len(x_train))
pixels_tr = x_train[order].reshape(-1, 784) / 255.0
labels_tr = y_train[order]"""
    cells = (LOAD, HELPERS, copies, INIT, FORWARD, TRAIN_SAMPLE, TRAIN_EPOCH)
    done = run(notebook(tmp_path / "s", *cells))
    values = done.probes["p5_q4"].values
    assert values["decision"] == "retrain"
    # both x_train (raw) and pixels_tr (shuffled, / 255) hold images: the scaled copy counts
    assert {"x_train", "pixels_tr"} <= set(values["inputs"])
    assert held_transform(done) == ((1 / 255, 0.0), True)
