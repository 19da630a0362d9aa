"""Problem 5: finding the weights by shapes, setting the grader's, and undoing it
(the checks/kernel/p5_tools.py prelude and the files sent with it, run here on plain namespaces as it runs in the kernel),
and validating what comes back (checks/p5_values.py)."""

from __future__ import annotations

import numpy as np
import pytest

from checks.p5_values import Holder, holder_from, number, params_from, weight_history
from checks.probes import p5_tools_code
from checks.scoring import CheckFailed
from dlgrade.engine import Kept
from reference import numpy_backprop as ref

LAYERS = ((784, 32), (32, 32), (32, 10))


@pytest.fixture(scope="module")
def tools():
    namespace: dict = {}
    exec(compile(p5_tools_code(), "p5_tools", "exec"), namespace)
    return namespace["_dlgrade_p5_tools"]()


def student_init(orientation="in_out", seed=1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    params = ref.init_params(np.random.default_rng(seed), orientation=orientation)
    return [w.copy() for w in params.weights], [b.copy() for b in params.biases]


def grader_params() -> tuple[list[np.ndarray], list[np.ndarray]]:
    params = ref.init_params()  # in_out, as the probes send it
    return list(params.weights), [b + 0.5 for b in params.biases]  # non-zero: visible


def test_the_starters_lists_are_found_first(tools):
    weights, biases = student_init()
    namespace = {"W": list(weights), "B": list(biases), "weights": weights, "biases": biases}
    found = tools.find(namespace)
    assert found["where"] == "`weights` and `biases`" and found["orientation"] == "in_out"
    assert not Holder(found["where"], found["orientation"]).adapted


def test_a_dict_is_found_adapted_and_restored(tools):
    weights, biases = student_init("out_in")
    params = {"b1": biases[0], "W1": weights[0], "W2": weights[1], "b2": biases[1]}
    params |= {"W3": weights[2], "b3": biases[2].reshape(10, 1), "lr": 0.003}
    namespace = {"params": params, "weights": 13 * [0.0]}  # a P3 `weights` earlier on
    found = tools.find(namespace)
    assert found["orientation"] == "out_in"
    assert found["where"] == "the dict `params` (W1, W2, W3, b1, b2, b3)"
    originals = {k: (v, np.array(v, copy=True)) for k, v in params.items() if k != "lr"}

    saved = tools.save(namespace, found)
    new_w, new_b = grader_params()
    tools.write(namespace, found, new_w, new_b)
    # the grader's numbers, in the notebook's orientation and bias shape
    np.testing.assert_array_equal(params["W1"], new_w[0].T)
    assert params["b3"].shape == (10, 1) and np.all(params["b3"] == 0.5)
    back = tools.read(namespace, found)
    np.testing.assert_array_equal(back[2], new_w[2].T)
    # the student's function then rebinds and mutates as it likes ...
    params["W2"] = params["W2"] - 1
    params["extra"] = "junk"
    namespace["params"] = {}
    tools.restore(namespace, saved)
    # ... and everything is as the notebook left it: same objects, same values
    assert namespace["params"] is params and "extra" not in params
    for key, (obj, values) in originals.items():
        assert params[key] is obj
        np.testing.assert_array_equal(obj, values)


def test_other_names_tuples_and_pairs_are_found(tools):
    weights, biases = student_init()
    found = tools.find({"Ws": tuple(weights), "bs": tuple(biases), "grads": list(weights)})
    assert found["where"].startswith("`Ws` and `bs`") and found["weights"][0] == ["Ws", 0]
    layers = [(w, b) for w, b in zip(weights, biases, strict=True)]
    found = tools.find({"layers": layers})
    assert found["weights"][1] == ["layers", 1, 0] and found["biases"][2] == ["layers", 2, 1]
    nested = {"net": {"weights": weights, "biases": biases}}
    assert tools.find(nested)["weights"][0] == ["net", "weights", 0]


def test_a_tuple_of_float32_arrays_is_replaced_then_restored(tools):
    weights, biases = student_init()
    mine = tuple(w.astype(np.float32) for w in weights)
    namespace = {"weights": mine, "biases": biases}
    found = tools.find(namespace)
    saved = tools.save(namespace, found)
    tools.write(namespace, found, *grader_params())
    assert namespace["weights"] is not mine and namespace["weights"][0].dtype == np.float64
    tools.restore(namespace, saved)
    assert namespace["weights"] is mine and mine[0].dtype == np.float32


@pytest.mark.parametrize(
    "namespace",
    [
        {"weights": [], "biases": []},  # declared in one cell, filled in the next
        {"weights": [np.zeros((784, 32)), np.zeros((32, 32))], "biases": [np.zeros(32)] * 2},
        {"weights": [np.zeros((784, 64)), np.zeros((64, 32)), np.zeros((32, 10))]},
        {"weights": [np.zeros((784, 32)), np.zeros((32, 32)), np.zeros((32, 10))]},  # no biases
        {"solution": np.zeros(13), "losses": [0.5] * 60000},
    ],
)
def test_incomplete_or_other_networks_are_not_a_weight_set(tools, namespace):
    assert tools.find(namespace) is None


def test_mixed_orientations_are_not_a_weight_set(tools):
    weights, biases = student_init()
    weights[2] = weights[2].T.copy()
    assert tools.find({"weights": weights, "biases": biases}) is None


# --- validation of what came back (issue 15: every probe value through expect_array) ---


def emitted(prefix: str = "s0_") -> dict:
    weights, biases = student_init()
    values = {f"{prefix}w{i}": w for i, w in enumerate(weights)}
    values.update({f"{prefix}b{i}": b for i, b in enumerate(biases)})
    return values


def test_params_from_accepts_a_good_set_and_any_bias_shape():
    values = emitted()
    values["s0_b1"] = values["s0_b1"].reshape(1, 32)
    params = params_from(values, "s0_", "in_out", "after train_one_sample")
    assert params.biases[1].shape == (32,)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda v: v.update(s0_w1=np.zeros((32, 31))),
            "'weights[1]' has shape 32x31; expected 32x32",
        ),
        (lambda v: v["s0_w2"].__setitem__((0, 0), np.nan), "'weights[2]' contains NaN"),
        (lambda v: v.update(s0_b0="nan"), "'biases[0]' is str, not a numeric array"),
        (lambda v: v.update(s0_b2=np.zeros((10, 10))), "biases[2] has shape 10x10; expected 10"),
        (lambda v: v.pop("s0_w0"), "weights[0] was not found"),
    ],
)
def test_a_malformed_value_becomes_a_named_failure(change, words):
    values = emitted()
    change(values)
    with pytest.raises(CheckFailed, match="after train_one_sample on raw test sample 0") as err:
        params_from(values, "s0_", "in_out", "after train_one_sample on raw test sample 0")
    assert words in err.value.message


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (np.ones((2, 2)), "'a loss' is an array of shape (2, 2); expected one number"),
        (float("nan"), "'a loss' is nan, not a finite number"),
        ("2.3", "'a loss' is str, not a number"),
    ],
)
def test_a_malformed_number_becomes_a_named_failure(raw, words):
    when = "feed_forward_sample on raw test sample 0 returned"
    assert number({"loss0": np.array([2.25])}, "loss0", "a loss", when) == 2.25
    with pytest.raises(CheckFailed, match="on raw test sample 0 returned") as err:
        number({"loss0": raw}, "loss0", "a loss", when)
    assert words in err.value.message
    with pytest.raises(CheckFailed, match="a loss was not found"):
        number({}, "loss0", "a loss", when)


def test_a_diverged_epoch_may_hold_nan_when_asked():
    values = emitted("e0_")
    values["e0_w0"][:] = np.nan
    params = params_from(values, "e0_", "in_out", "after epoch 1", finite=False)
    assert np.isnan(params.weights[0]).all()


def test_a_forged_holder_is_refused():
    assert holder_from(None) is None
    with pytest.raises(CheckFailed, match="could not be read back"):
        holder_from({"where": "x", "orientation": "sideways"})


def test_weight_history_reads_init_and_epochs_and_names_a_bad_keep():
    kept = [
        Kept(3, "init", {"holder": {"where": "`weights` and `biases`", "orientation": "in_out"}}, 0)
    ]
    kept += [Kept(3, f"init_{k[3:]}", v, 1 + i) for i, (k, v) in enumerate(emitted("s0_").items())]
    kept += [Kept(7, "s0", {"event": "epoch", "epochs": 1}, 10)]
    kept += [Kept(7, k, v, 11 + i) for i, (k, v) in enumerate(emitted("s0_").items())]
    history = weight_history(kept)
    assert history.init.cell == 3 and history.holder.where == "`weights` and `biases`"
    assert [(s.cell, s.event, s.epochs) for s in history.epochs] == [(7, "epoch", 1)]
    broken = [k if k.key != "init_w1" else Kept(3, "init_w1", "oops", k.seq) for k in kept]
    with pytest.raises(CheckFailed, match="kept after cell 4, 'weights\\[1\\]' is str"):
        weight_history(broken)
    # a later snapshot that does not validate (numpy broken by a last cell) is set aside
    later = [k if k.key != "s0_w0" else Kept(7, "s0_w0", np.ones((2, 2)), k.seq) for k in kept]
    history = weight_history(later)
    assert history.init is not None and history.epochs == ()
    assert history.unreadable == (
        (
            "epoch",
            "the weights kept after cell 8, weights[0] has shape 2x2; expected 784x32 or 32x784",
        ),
    )


def test_ipythons_output_history_is_not_a_holder(tools):
    weights, biases = student_init()
    params = dict(zip(("W1", "W2", "W3", "b1", "b2", "b3"), weights + biases, strict=True))
    namespace = {"In": ["", "params"], "Out": {3: weights, 4: biases, 5: params}, "params": params}
    assert tools.find(namespace)["where"].startswith("the dict `params`")


def test_lists_get_their_own_arrays_back_after_a_function_rebinds_items(tools):
    weights, biases = student_init()
    originals = [(w, w.copy()) for w in weights]
    namespace = {"weights": weights, "biases": biases}
    found = tools.find(namespace)
    saved = tools.save(namespace, found)
    tools.write(namespace, found, *grader_params())
    # a student's update that rebinds items instead of updating them in place
    weights[0] = weights[0] - 1.0
    weights.append("junk")
    tools.restore(namespace, saved)
    assert len(weights) == 3
    for now, (obj, values) in zip(weights, originals, strict=True):
        assert now is obj
        np.testing.assert_array_equal(now, values)


# --- issue 21: the network found by its shape chain, functions called as the notebook does ---

SIX = ("weights_1", "biases_1", "weights_2", "biases_2", "weights_output", "biases_output")


def notebook(*cells: str, **values) -> dict:
    """A namespace as the kernel's: the cells run as __main__, IPython's `In` holding them."""
    namespace: dict = {"__name__": "__main__", "In": ["", *cells], "np": np, **values}
    for cell in cells:
        exec(compile(cell, "<cell>", "exec"), namespace)
    return namespace


def six_globals(orientation="in_out") -> dict[str, np.ndarray]:
    weights, biases = student_init(orientation)
    return dict(
        zip(SIX, [a for pair in zip(weights, biases, strict=True) for a in pair], strict=True)
    )


def test_six_separate_globals_are_assembled_and_gradients_lose(tools):
    network = six_globals()
    decoys = {"dW2": np.zeros((32, 32)), "grad_b1": np.zeros(32), "delta_out": np.zeros(10)}
    found = tools.find({**decoys, **network, "x": np.zeros((60, 784))})
    assert found["where"] == "globals " + ", ".join(SIX)
    assert found["orientation"] == "in_out"
    assert [p[0] for p in found["weights"] + found["biases"]] == list(SIX[0::2] + SIX[1::2])
    note = Holder(found["where"], found["orientation"]).note()
    assert note.startswith("your weights are held in globals weights_1, biases_1, weights_2")


def test_a_dict_of_layer_pairs_is_found(tools):
    weights, biases = student_init("out_in")
    layers = {f"layer{i + 1}": (w, b) for i, (w, b) in enumerate(zip(weights, biases, strict=True))}
    # `for name, (W, b) in params.items()` leaves globals W and b holding layer 3's arrays
    loop_left = {"W": weights[2], "b": biases[2]}
    found = tools.find({**loop_left, "params": dict(reversed(layers.items())), "lr": 0.01})
    assert found["where"] == "the dict `params` keys layer1, layer2, layer3"
    assert found["weights"][0] == ["params", "layer1", 0] and found["biases"][2] == [
        "params",
        "layer3",
        1,
    ]
    assert found["orientation"] == "out_in"


def test_an_objects_attributes_are_found_set_and_restored(tools):
    namespace = notebook(
        "class Network:\n"
        "    def __init__(self, weights, biases):\n"
        "        self.W1, self.W2, self.W3 = weights\n"
        "        self.b1, self.b2, self.b3 = [b.reshape(-1, 1) for b in biases]\n"
        "net = Network(*student_init('out_in'))\n",
        student_init=student_init,
    )
    net = namespace["net"]
    found = tools.find(namespace)
    assert found["where"] == "the `Network` object `net` attributes W1, b1, W2, b2, W3, b3"
    saved = tools.save(namespace, found)
    original = net.W2
    weights, biases = grader_params()
    tools.write(namespace, found, weights, biases)
    np.testing.assert_array_equal(tools.read(namespace, found)[1], weights[1].T)
    net.W2 = net.W2 * 2  # the student's method rebinds the attribute
    tools.restore(namespace, saved)
    assert net.W2 is original and net.b3.shape == (10, 1)


def test_arrays_in_a_functions_defaults_are_found(tools):
    namespace = notebook(
        "def train_one_sample(sample, y, learning_rate=0.003, net=None,"
        " layers=list(zip(*student_init()))):\n"
        "    return layers\n",
        student_init=student_init,
    )
    found = tools.find(namespace)
    assert found["weights"][0] == ["train_one_sample", ["default", 2, "layers"], 0, 0]
    tools.write(namespace, found, *grader_params())
    assert np.all(namespace["train_one_sample"](None, 0)[2][1] == 0.5)


@pytest.mark.parametrize(
    ("sizes", "what"),
    [
        ([784, 32, 32, 10], "returns the activations, not (loss, one_hot_guess)"),
        ([10], "returns one vector of 10 values, not"),
        ("forged", "returns something else, not"),
    ],
)
def test_q2_names_an_interface_that_differs(sizes, what):
    from checks.p5_forward import forward_results

    values = {"returned0": "[array([0., 0.]), ...]", "returned_sizes0": sizes}
    cases = [(None, 7, "raw"), (None, 7, "scaled")]
    with pytest.raises(CheckFailed, match="^interface differs: ") as failed:
        forward_results(None, values, cases)
    assert what in failed.value.message and "on raw test sample 0 (label 7)" in failed.value.message


def test_arrays_in_the_closure_of_a_wrapped_function_are_found_and_set(tools):
    import functools

    namespace = notebook(
        "def make(weights, biases):\n"
        "    def train_one_sample(sample, y, learning_rate=0.003):\n"
        "        return weights, biases\n"
        "    return train_one_sample\n"
        "train_one_sample = make(*student_init())\n"
        "del make\n",
        student_init=student_init,
    )
    inner = namespace["train_one_sample"]

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):  # as the p5_weights watch wraps it
        return inner(*args, **kwargs)

    wrapper._dlgrade_hooked = True
    namespace["train_one_sample"] = wrapper
    found = tools.find(namespace)
    assert found["weights"][0] == ["train_one_sample", ["wrapped", 0], ["closure", 1, "weights"], 0]
    tools.write(namespace, found, *grader_params())
    assert np.all(wrapper(None, 0)[1][2] == 0.5)
