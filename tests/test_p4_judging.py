"""Problem-4 judging helpers, each with a right and a wrong input: loss series, the
preprocessing fit, the model choice and rebuild, and probe values that are malformed."""

from __future__ import annotations

import numpy as np
import pytest

from checks import p4_network as network
from checks import p4_values as read
from checks.p4_figures import Curve
from checks.p4_inputs import Preprocessing, describe, fit_affine, internal_affine
from checks.p4_losses import epoch_counts, loss_series, over_batches
from checks.scoring import CheckFailed

TRAIN = [0.62, 0.41, 0.36, 0.33]
TEST = [0.48, 0.43, 0.40, 0.41]


# --- loss_series ----------------------------------------------------------------------


def test_loss_lists_by_any_common_name():
    for train, test in [("train_losses", "test_losses"), ("tr_loss", "te_loss"),
                        ("epoch_loss", "val_loss"), ("trLoss", "teLoss"),
                        ("trainLoss", "testLoss")]:  # fmt: skip
        found = loss_series(
            {"series": {train: TRAIN, test: TEST, "train_acc": [0.7, 0.8, 0.9, 0.9]}}
        )
        assert (found[0].name, found[1].name) == (train, test)
        assert found[0].values == tuple(TRAIN)


def test_a_history_dict_from_a_training_function():
    values = {"series": {"history['loss']": TRAIN, "history['val_loss']": TEST,
                         "history['accuracy']": [0.7, 0.8, 0.85, 0.86]}, "epochs": {"n_epochs": 4}}  # fmt: skip
    train, test = loss_series(values)
    assert (train.name, test.name) == ("history['loss']", "history['val_loss']")


def test_the_length_must_fit_the_stated_epochs():
    per_batch = list(np.linspace(2.3, 0.3, 400))
    values = {"series": {"batch_losses": per_batch, "test_losses": TEST}, "epochs": {"EPOCHS": 4}}
    train, test = loss_series(values)
    assert train is None and test.name == "test_losses"
    # the loop variable of range(E) ends at E - 1
    assert epoch_counts({"epochs": {"epoch": 3}}) == {3, 4}


def test_epochs_kept_in_a_settings_dict_or_object_are_read():
    import types

    import torch

    from checks.kernel.p4_series import _epoch_counts

    class Settings:
        def __init__(self):
            self.num_epochs = 12
            self.lr = 0.01

    namespace = {
        "config": {"epochs": 15, "batch_size": 64},
        "args": types.SimpleNamespace(n_epochs=8),
        "hp": Settings(),
        "ckpt": {"epoch": 4},
        "np": np,  # a module: its attributes are not the student's settings
        "model": torch.nn.Linear(2, 2),
        "_hidden": {"epochs": 99},
    }
    found = _epoch_counts(namespace)
    assert found == {
        "config['epochs']": 15,
        "args.n_epochs": 8,
        "hp.num_epochs": 12,
    }  # a checkpoint's {"epoch": 4} may be any epoch the student saved at: not a count
    assert epoch_counts({"epochs": found}) == {15, 8, 12}


def test_per_batch_losses_are_not_taken_when_a_config_states_the_epochs():
    per_batch = list(np.linspace(2.3, 0.3, 40))
    values = {
        "series": {"losses": per_batch, "test_losses": TEST},
        "epochs": {"config['epochs']": 4},
    }
    train, test = loss_series(values)
    assert train is None and test.name == "test_losses"


def test_accuracies_and_labels_are_not_losses():
    values = {"series": {"train_acc": [0.7, 0.8], "test_accuracy": [0.6, 0.7], "preds": [3.0, 1.0]}}
    assert loss_series(values) == (None, None)
    assert loss_series({"series": {"train_loss": [0.5, -0.1], "test_loss": [0.0, 0.3]}}) == (
        None,
        None,
    )


def test_an_unnamed_list_counts_when_a_loss_figure_plots_it():
    curves = (Curve(0, "train", tuple(TRAIN), "train", "loss"),)
    train, test = loss_series({"series": {"a": TRAIN, "b": [0.9, 0.95, 0.96, 0.97]}}, curves)
    assert train.name == "a" and test is None
    assert loss_series({"series": {"a": TRAIN}}) == (None, None)


def test_a_list_plotted_over_mini_batches_is_not_per_epoch():
    values = {"series": {"losses": TRAIN}, "epochs": {"epoch": 3}}  # 4 values, 4 epochs
    assert loss_series(values)[0].name == "losses"
    over_batches_curve = (Curve(0, "", tuple(TRAIN), None, "loss", "batches"),)
    assert loss_series(values, over_batches_curve) == (None, None)
    assert over_batches(values, over_batches_curve) == ["losses"]


def test_malformed_series_are_a_named_failure_or_skipped():
    with pytest.raises(CheckFailed, match="'series' is not a mapping"):
        loss_series({"series": [1, 2]})
    # a list holding a NaN or text is no loss curve; the others still count
    values = {"series": {"train_loss": [0.5, float("nan")], "val_loss": ["x", 1], "loss": TRAIN}}
    assert loss_series(values)[0].name == "loss"


# --- preprocessing --------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(300, 784), dtype=np.uint8)


@pytest.mark.parametrize(
    ("scale", "shift", "words"),
    [
        (1.0, 0.0, "raw pixel values"),
        (1 / 255, 0.0, "pixels / 255"),
        (1 / (255 * 0.3530), -0.2860 / 0.3530, "(x - 0.286) / 0.353"),
        (2 / 255, -1.0, "(x - 0.5) / 0.5"),
    ],  # fmt: skip
)
def test_affine_preprocessing_is_recovered(raw, scale, shift, words):
    samples = raw[[5, 17, 230]].astype(np.float32) * np.float32(scale) + np.float32(shift)
    fitted = fit_affine(samples, raw)
    assert fitted == pytest.approx((scale, shift), rel=1e-4, abs=1e-5)
    assert words in describe(*fitted)
    assert Preprocessing(*fitted, "test").apply(raw[:2]) == pytest.approx(
        raw[:2].astype(float) * scale + shift, rel=1e-4, abs=1e-4
    )


def test_non_affine_preprocessing_is_not_inferred(raw):
    rows = raw[[3, 4]].astype(np.float64)
    standardised = (rows - rows.mean(axis=1, keepdims=True)) / rows.std(axis=1, keepdims=True)
    mixed = np.stack([rows[0] / 255, rows[1] / 255 * 2])  # two different scales
    assert "not through one scale and shift" in fit_affine(mixed, raw)
    assert "not through one scale and shift" in fit_affine(standardised, raw)
    shuffled = rows[:, ::-1] / 255
    assert "not an affine copy" in fit_affine(shuffled, raw)


def test_an_affine_map_inside_the_model_is_found(raw):
    fed = raw[:4].astype(np.float64) / 255
    assert internal_affine(fed, fed) == pytest.approx((1.0, 0.0))
    assert internal_affine(fed * 2 - 1, fed) == pytest.approx((2.0, -1.0))
    assert internal_affine(fed**2, fed) is None


# --- the network ----------------------------------------------------------------------


def weights(rng, sizes=(784, 256, 128, 64, 10)):
    ws = [
        rng.normal(0, 1 / np.sqrt(i), size=(o, i))
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    bs = [rng.normal(0, 0.1, size=o) for o in sizes[1:]]
    return ws, bs


def probe_values(ws, bs, output, ops=(), extra=None) -> dict:
    rng = np.random.default_rng(1)
    x = rng.random((16, 784))
    values = {"models": [{"name": "model", "params": 1, "weight_ids": [7], "optimizers": ["opt"],
                          "ops": list(ops), "trace": "fx"}], "m0_in": x}  # fmt: skip
    for j, (w, b) in enumerate(zip(ws, bs, strict=True)):
        values[f"m0_w{j}"], values[f"m0_b{j}"] = w, b
    candidate = network.candidates(values)[0]
    logits = network.forward(candidate, x, ("relu",) * (len(ws) - 1))
    values["m0_out"] = network.OUTPUT_FORMS[output](logits)
    values.update(extra or {})
    return values


@pytest.mark.parametrize("output", ["logits", "log-probabilities", "probabilities"])
def test_the_rebuild_matches_every_output_form(output):
    ws, bs = weights(np.random.default_rng(0))
    candidate = network.candidates(probe_values(ws, bs, output))[0]
    assert candidate.shapes == network.expected_shapes()
    rebuilt = network.rebuild(candidate)
    assert rebuilt == network.Rebuild(("relu", "relu", "relu"), output)


def test_a_sigmoid_network_is_rebuilt_only_with_sigmoids():
    ws, bs = weights(np.random.default_rng(0))
    values = probe_values(ws, bs, "logits")
    ops = ["Linear(784,256)", "Sigmoid", "Linear(256,128)", "Sigmoid", "Linear(128,64)",
           "Sigmoid", "Linear(64,10)"]  # fmt: skip
    candidate = network.candidates({**values, "models": [{**values["models"][0], "ops": ops}]})[0]
    x = values["m0_in"]
    sig = network.forward(candidate, x, ("sigmoid",) * 3)
    candidate = network.candidates(
        {**values, "m0_out": sig, "models": [{**values["models"][0], "ops": ops}]}
    )[0]
    assert network.rebuild(candidate).activations == ("sigmoid",) * 3
    wrong = network.candidates({**values, "m0_out": sig})[0]  # traced as ReLU: no match
    assert network.rebuild(wrong) is None


def test_the_trained_model_is_chosen_over_a_larger_one():
    ws, bs = weights(np.random.default_rng(0))
    big_w, big_b = weights(np.random.default_rng(2), (784, 1000, 10))
    values = probe_values(ws, bs, "logits")
    values["models"].append({"name": "big", "params": 10**6, "weight_ids": [9], "optimizers": []})
    values.update({"m1_w0": big_w[0], "m1_b0": big_b[0], "m1_w1": big_w[1], "m1_b1": big_b[1]})
    found = network.candidates(values)
    assert network.choose(found, {7: 938}).candidate.name == "model"
    assert "938 optimizer steps" in network.choose(found, {7: 938}).why
    assert network.choose(found, {9: 5}).candidate.name == "big"
    # no steps seen: the one an optimizer holds
    assert "`opt` holds" in network.choose(found, {}).why
    found[0] = network.candidates(
        {**values, "models": [{**values["models"][0], "optimizers": []}]}
    )[0]
    assert network.choose(found, None).candidate.name == "big"  # then the largest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"m0_w1": np.full((128, 256), np.nan)},
            "Linear layer 2 of `model` could not be read: 'm0_w1' contains NaN",
        ),
        ({"m0_w0": "weights"}, "'m0_w0' is str, not a numeric array"),
        ({"m0_b2": np.zeros(3)}, "'m0_b2' has shape 3; expected 64"),
        ({"m0_out": np.zeros(16)}, "output of `model` on test images could not be read"),
        ({"models": {"name": "model"}}, "'models' is not a list of records"),
    ],  # fmt: skip
)
def test_malformed_probe_values_become_named_failures(change, message):
    ws, bs = weights(np.random.default_rng(0))
    values = {**probe_values(ws, bs, "logits"), **change}
    with pytest.raises(CheckFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        network.candidates(values)


def test_value_readers_accept_good_values_and_name_bad_ones():
    assert read.number({"acc": np.array([0.5])}, "acc", "accuracy") == 0.5
    with pytest.raises(CheckFailed, match="accuracy could not be read: 'acc' is inf"):
        read.number({"acc": float("inf")}, "acc", "accuracy")
    assert read.array({"x": [[1, 2]]}, "x", "rows", shape=(None, 2)).shape == (1, 2)
    with pytest.raises(CheckFailed, match="rows could not be read: no value 'x'"):
        read.array({}, "x", "rows")


# --- 4-reported ---------------------------------------------------------------------


def test_the_reported_accuracy_is_compared_with_the_graded_weights():
    from checks.p4_accuracy import Measured, reported_problem
    from checks.p4_training import TrainingNote

    measured = Measured(0.8858, "measured by the grader on the 10000 test images", None, None)
    assert reported_problem(88.85, measured) is None
    problem = reported_problem(93.78, measured)
    assert "reports a test accuracy of 93.78 %" in problem and "reaches 88.58 %" in problem
    note = TrainingNote("interrupted", "training cell interrupted after 1800 s at epoch 38")
    assert "interrupted after 1800 s" in reported_problem(93.78, Measured(0.8, "m", None, note))
