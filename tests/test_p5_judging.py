"""Problem 5 judging helpers, each with a right and a wrong input (checks/p5_judging.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.random import default_rng

from checks.p5_judging import (
    dataset_report_problems,
    infer_scale,
    input_transform,
    name_factor,
    printed_numbers,
    scale_diagnosis,
    seed_layout,
    uniform_factor,
    unseeded,
    update_error,
)
from checks.p5_variants import buggy_step
from checks.scoring import CheckFailed, PartialCredit
from reference import numpy_backprop as ref

LAYERS = ((784, 32), (32, 32), (32, 10))


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, int]:
    """A fixed 'image': the test needs no dataset, only realistic pixel values."""
    return default_rng(7).integers(0, 256, size=(28, 28)).astype(float), 3


def scaled_update(start: ref.Params, expected: ref.Params, c: float) -> ref.Params:
    return ref.Params(
        tuple(s + c * (e - s) for s, e in zip(start.weights, expected.weights, strict=True)),
        tuple(s + c * (e - s) for s, e in zip(start.biases, expected.biases, strict=True)),
        start.orientation,
    )


# --- update_error ----------------------------------------------------------------


@pytest.mark.parametrize("orientation", ["in_out", "out_in"])
def test_update_error_is_tiny_for_the_reference_and_large_for_a_known_bug(sample, orientation):
    x, label = sample
    start = ref.orient(ref.init_params(), orientation)
    expected, _ = ref.step(start, x / 255, label)
    assert update_error(start, expected, expected) == 0
    wrong = buggy_step(start, x / 255, label, ref.LEARNING_RATE, "dsigmoid-on-activation")
    assert update_error(start, wrong, expected) > 1e-2


def test_update_error_sees_a_wrong_first_layer_whose_update_is_tiny(sample):
    # Raw pixels saturate layer 1: its update is orders of magnitude below the others'.
    x, label = sample
    start = ref.init_params()
    expected, _ = ref.step(start, x, label)
    weights = list(expected.weights)
    weights[0] = start.weights[0] + 2 * (expected.weights[0] - start.weights[0])
    found = ref.Params(tuple(weights), expected.biases)
    assert update_error(start, found, expected) == pytest.approx(1.0)


def test_update_error_calls_non_finite_parameters_infinitely_wrong(sample):
    x, label = sample
    start = ref.init_params()
    expected, _ = ref.step(start, x, label)
    weights = list(expected.weights)
    weights[2] = np.full_like(weights[2], np.nan)
    assert update_error(start, ref.Params(tuple(weights), expected.biases), expected) == math.inf


# --- the uniform-scale diagnosis ---------------------------------------------------


@pytest.mark.parametrize("c", [1 / 784, 1 / 28, -1.0, 1 / ref.LEARNING_RATE, 2.5])
def test_uniform_factor_finds_the_constant(sample, c):
    x, label = sample
    start = ref.orient(ref.init_params(), "out_in")
    expected, _ = ref.step(start, x / 255, label)
    assert uniform_factor(start, scaled_update(start, expected, c), expected) == pytest.approx(c)


def test_uniform_factor_is_none_when_the_layers_disagree(sample):
    x, label = sample
    start = ref.init_params()
    expected, _ = ref.step(start, x / 255, label)
    wrong = buggy_step(start, x / 255, label, ref.LEARNING_RATE, "update-inside-loop")
    assert uniform_factor(start, wrong, expected) is None
    # one layer scaled, the others right: not a uniform factor either
    half = scaled_update(start, expected, 0.5)
    mixed = ref.Params((half.weights[0], *expected.weights[1:]), expected.biases)
    assert uniform_factor(start, mixed, expected) is None
    assert uniform_factor(start, start, expected) is None  # no update at all


@pytest.mark.parametrize(
    ("c", "words"),
    [
        (1 / 784, "your update is 1/784 of the correct one: did you divide by the sample length?"),
        (1 / 28, "your update is 1/28 of the correct one: did you divide by the sample length?"),
        (1 / 10, "1/10 of the correct one: did you divide by the number of classes?"),
        (-1.0, "-1 times the correct one: it goes uphill"),
        (
            1 / ref.LEARNING_RATE,
            "1000/3 times the correct one: is the learning rate (0.003) applied?",
        ),
        (ref.LEARNING_RATE, "3/1000 of the correct one: is the learning rate applied twice?"),
        (10 / 3, "10/3 times the correct one: it matches a learning rate of 0.01"),
    ],
)
def test_scale_diagnosis_names_the_factor_and_its_likely_cause(c, words):
    assert words in scale_diagnosis(c)


def test_scale_diagnosis_without_a_known_cause_only_names_the_factor():
    assert scale_diagnosis(0.37123) == "your update is 0.3712 times the correct one"
    assert name_factor(2 / 3) == "2/3 of" and name_factor(4.0) == "4 times"


# --- the input scale of one function -------------------------------------------


def test_infer_scale_finds_a_function_that_divides_by_255_itself(sample):
    x, label = sample
    params = ref.init_params()

    def student(v):  # scales inside, as some students do
        return ref.feed_forward_sample(params, v / 255, label)[0]

    factor, error = infer_scale(
        lambda f: abs(student(x) - ref.feed_forward_sample(params, x * f, label)[0])
    )
    assert factor == 1 / 255 and error < 1e-12


def test_infer_scale_prefers_raw_and_leaves_a_wrong_function_far_off(sample):
    x, label = sample
    params = ref.init_params()
    right = ref.feed_forward_sample(params, x, label)[0]
    factor, error = infer_scale(
        lambda f: abs(right - ref.feed_forward_sample(params, x * f, label)[0])
    )
    assert factor == 1.0 and error == 0
    wrong = right + 0.5  # e.g. a loss that forgot the softmax
    _, error = infer_scale(lambda f: abs(wrong - ref.feed_forward_sample(params, x * f, label)[0]))
    assert error > 0.1


def test_infer_scale_takes_raw_on_a_tie_and_never_a_scale_that_gives_nan():
    # a function that ignores its input fits both scales equally: 1, as the docstring says
    assert infer_scale(lambda f: 0.25) == (1.0, 0.25)
    # raw pixels overflow to NaN in a function that scales inside: NaN is no match
    factor, error = infer_scale(lambda f: math.nan if f == 1.0 else 1e-9)
    assert (factor, error) == (1 / 255, 1e-9)
    # NaN under every scale stays NaN, for the caller to reject
    assert math.isnan(infer_scale(lambda f: math.nan)[1])


# --- the seed check ----------------------------------------------------------------


def draw(how: str) -> list[np.ndarray]:
    rng = default_rng(ref.SEED)
    weights = []
    for n_in, n_out in LAYERS:
        sd = 1 / np.sqrt(max(n_in, n_out))
        if how == "normal-in-out":
            weights.append(rng.normal(0, sd, size=(n_in, n_out)))
        elif how == "standard-out-in":
            weights.append(rng.standard_normal((n_out, n_in)) * sd)
        elif how == "drawn-out-in-stored-in-out":
            weights.append(rng.normal(0.0, np.sqrt(1 / max(n_in, n_out)), (n_out, n_in)).T)
        elif how == "float32":
            weights.append(rng.normal(0, sd, size=(n_in, n_out)).astype(np.float32))
        elif how == "legacy-np-random":
            np.random.seed(ref.SEED)
            weights.append(np.random.normal(0, sd, size=(n_in, n_out)))
        elif how == "fresh-rng-per-layer":
            weights.append(default_rng(ref.SEED).normal(0, sd, size=(n_in, n_out)))
        elif how == "other-seed":
            weights.append(default_rng(12345).normal(0, sd, size=(n_in, n_out)))
    return [np.asarray(w, dtype=float) for w in weights]


@pytest.mark.parametrize(
    "how", ["normal-in-out", "standard-out-in", "drawn-out-in-stored-in-out", "float32"]
)
def test_seed_layout_accepts_every_way_of_drawing_from_the_asked_stream(how):
    layouts = seed_layout(draw(how))
    assert layouts is not None and len(layouts) == 3


def test_seed_layout_says_how_each_layer_was_drawn():
    assert seed_layout(draw("standard-out-in")) == ["32x784", "32x32", "10x32"]
    assert seed_layout(draw("drawn-out-in-stored-in-out")) == [
        "32x784 transposed",
        "32x32 transposed",
        "10x32 transposed",
    ]


@pytest.mark.parametrize("how", ["legacy-np-random", "fresh-rng-per-layer", "other-seed"])
def test_seed_layout_rejects_other_streams(how):
    assert seed_layout(draw(how)) is None


def test_unseeded_draws_get_the_credit_the_manifest_sets():
    note = "right distribution, not the asked stream"
    assert unseeded(1.0, note) == note  # the default: full credit, with the note
    with pytest.raises(PartialCredit) as partial:
        unseeded(0.5, note)
    assert partial.value.fraction == 0.5 and note in partial.value.message
    with pytest.raises(CheckFailed, match=note):
        unseeded(0.0, note)


# --- what feed_forward_dataset printed ------------------------------------------------

STARTER_PRINT = "\nAverage loss: 2.33\nAccuracy (# of correct guesses): 5.0 / 40 ( 12.50 %)\n"


def test_printed_numbers_carry_their_precision():
    numbers = printed_numbers("loss 2.33, acc 12.5%, count 5, 1e-3")
    assert [(n.value, n.unit) for n in numbers] == [
        (2.33, 0.01),
        (12.5, 0.1),
        (5.0, 1.0),
        (0.001, 0.001),
    ]


@pytest.mark.parametrize(
    "text",
    [
        STARTER_PRINT,
        "avg loss = 2.3316\naccuracy = 0.125",
        "Loss: 2.331592\nAccuracy: 12.5%",
        "Test loss 2.33 | 5/40 correct",
    ],
)
def test_dataset_report_accepts_the_right_numbers_in_any_wording(text):
    assert dataset_report_problems(text, 2.331592, 5, 40) == []


def test_dataset_report_names_a_sum_instead_of_an_average_and_a_wrong_accuracy():
    summed = "Average loss: 93.26\nAccuracy (# of correct guesses): 5.0 / 40 ( 12.50 %)"
    assert dataset_report_problems(summed, 2.331592, 5, 40) == [
        "the average loss 2.332 is not shown (it shows the sum of the 40 losses instead)"
    ]
    wrong = "Average loss: 2.33\nAccuracy (# of correct guesses): 0.0 / 40 ( 0.00 %)"
    assert dataset_report_problems(wrong, 2.331592, 5, 40) == [
        "the accuracy 5/40 (12.50 %) is not shown"
    ]


# --- how the notebook holds its inputs --------------------------------------------------


def test_input_transform_reads_scaling_and_standardisation():
    raw = default_rng(3).integers(0, 256, size=(8, 28, 28)).astype(np.uint8)
    assert input_transform(raw.astype(float), raw) == (1.0, 0.0)
    assert input_transform(raw.reshape(8, -1) / 255.0, raw) == (1 / 255, 0.0)
    a, b = input_transform((raw / 255.0 - 0.1307) / 0.3081, raw)
    assert a == pytest.approx(1 / (255 * 0.3081)) and b == pytest.approx(-0.1307 / 0.3081)


def test_input_transform_refuses_data_that_is_not_the_same_images():
    raw = default_rng(3).integers(0, 256, size=(8, 28, 28)).astype(np.uint8)
    assert input_transform(raw[::-1] / 255.0, raw) is None  # shuffled
    assert input_transform(raw[:, :14] / 255.0, raw) is None  # cropped
    per_pixel = (raw - raw.mean(axis=0)) / (raw.std(axis=0) + 1)
    assert input_transform(per_pixel, raw) is None


# --- the network feed_forward_dataset is judged on -----------------------------------


def test_the_dataset_network_tells_digits_apart_so_accuracy_bugs_show():
    from checks.probes import p5_dataset, p5_dataset_networks

    x, y = p5_dataset()
    networks = p5_dataset_networks()
    raw_loss, raw_accuracy = ref.evaluate(networks["raw"], x, y)
    scaled_loss, scaled_accuracy = ref.evaluate(networks["scaled"], x / 255, y)
    # one network: the raw variant sees raw pixels as the scaled one sees pixels / 255
    assert raw_loss == pytest.approx(scaled_loss, rel=1e-9) and raw_accuracy == scaled_accuracy
    guesses = [
        int(np.argmax(ref.forward_activations(networks["raw"], s.ravel() * 1.0)[-1])) for s in x
    ]
    right = sum(g == t for g, t in zip(guesses, y, strict=True))
    assert right == round(raw_accuracy * len(y)) and right >= 0.6 * len(y)
    # np.argmax(one_hot_guesses) without axis= compares one flat index with every label
    assert sum(guesses[0] == t for t in y) != right
    assert (
        dataset_report_problems(
            f"Average loss: {raw_loss:.2f}\nAccuracy: {right}", raw_loss, right, 40
        )
        == []
    )


# --- naming a wrong update and a wrong forward pass -----------------------------------


@pytest.mark.parametrize(
    ("bug", "words"),
    [
        ("dsigmoid-on-activation", "sigmoid applied twice"),
        ("update-inside-loop", "inside the backward loop"),
        ("loss-vs-prediction", "predicted class"),
        ("no-softmax", "no softmax"),
    ],
)
def test_q3_message_names_a_known_mistake_under_either_input_scale(sample, bug, words):
    from checks.p5_update import q3_message

    x, label = sample
    start = ref.orient(ref.init_params(), "out_in")
    for inside in (1.0, 1 / 255):  # the student's function may divide by 255 itself
        found = buggy_step(start, x * inside, label, ref.LEARNING_RATE, bug)
        assert words in q3_message(start, found, x, label, "raw test sample 0")


def test_q3_message_names_a_constant_factor_and_otherwise_the_wrong_layers(sample):
    from checks.p5_update import q3_message

    x, label = sample
    start = ref.init_params()
    expected, _ = ref.step(start, x / 255, label)
    found = scaled_update(start, expected, 1 / 784)
    message = q3_message(start, found, x / 255, label, "scaled test sample 0")
    assert (
        "your update is 1/784 of the correct one: did you divide by the sample length?" in message
    )
    weights = list(expected.weights)
    weights[1] = weights[1] + 1e-3
    odd = ref.Params(tuple(weights), expected.biases)
    message = q3_message(start, odd, x / 255, label, "scaled test sample 0")
    assert "wrong layers: weights[1]." in message and "constant factor" not in message
    assert "did not change the weights" in q3_message(start, start, x, label, "raw")


def test_a_forward_pass_without_softmax_is_recognised(sample):
    from checks.p5_variants import buggy_forward

    x, label = sample
    params = ref.init_params()
    assert math.isnan(buggy_forward(params, x, label, "no-softmax"))
    sigmoid_loss = buggy_forward(params, x / 255, label, "sigmoid-output")
    right = ref.feed_forward_sample(params, x / 255, label)[0]
    assert math.isfinite(sigmoid_loss) and abs(sigmoid_loss - right) > 1e-3
