"""Problem 5: the student's functions called as the notebook calls them (checks/kernel/p5_binding.py,
run here on plain namespaces as it runs in the kernel): extra parameters bound by name, from the
notebook's calls or to the network's arrays; a returned network kept; and Q4's re-training,
which makes one of the notebook's own calls again, whole, through the same binding."""

from __future__ import annotations

import numpy as np
import pytest
from test_p5_holders import grader_params, notebook, six_globals, student_init

from checks.probes import p5_tools_code

EPOCH = """
def train_one_epoch(ws, bs, xs, lr):
    # new arrays, as a notebook that returns its network: every array moves by lr * len(xs)
    return [w + lr * len(xs) for w in ws], [b + lr * len(xs) for b in bs]
"""
# A later cell, not run here: its arguments are expressions, not only names.
CALL = "for i in range(3):\n    weights, biases = train_one_epoch(weights, biases, x[:2] * 1.0, lr=rates['a'])\n"


@pytest.fixture(scope="module")
def tools():
    namespace: dict = {}
    exec(compile(p5_tools_code(), "p5_tools", "exec"), namespace)
    return namespace["_dlgrade_p5_tools"]()


def test_the_notebooks_own_call_is_made_again_whole_and_its_names_put_back(tools):
    weights, biases = student_init()
    namespace = notebook(
        EPOCH, weights=weights, biases=biases, x=np.zeros((5, 784)), rates={"a": 0.5}
    )
    namespace["In"].append(CALL)
    found = tools.find(namespace)
    epoch, names = tools.as_called(namespace, "train_one_epoch", found)
    assert names == ["weights", "biases"]
    saved = tools.save(namespace, found)
    with tools.keeping(namespace, names):
        epoch()
        epoch()  # the second call takes the first one's result: 2 calls x 0.5 x 2 rows
        np.testing.assert_allclose(namespace["weights"][0], student_init()[0][0] + 2)
        np.testing.assert_allclose(tools.read(namespace, found)[5], 2)
    tools.restore(namespace, saved)
    assert namespace["weights"] is weights
    np.testing.assert_array_equal(namespace["weights"][0], student_init()[0][0])


def test_without_a_call_to_make_again_the_plain_call_is_bound_and_its_network_kept(tools):
    returning = (
        "def train_one_epoch(weights, biases):\n"
        "    return [w + 1 for w in weights], [b + 1 for b in biases]\n"
    )
    weights, biases = student_init()
    namespace = notebook(returning, weights=weights, biases=biases)  # never called
    found = tools.find(namespace)
    epoch, names = tools.as_called(namespace, "train_one_epoch", found)
    assert names == []
    epoch()  # parameters bound by name to the globals; the returned network stored in the holder
    np.testing.assert_allclose(tools.read(namespace, found)[2], student_init()[0][2] + 1)


STEP = """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def train_one_sample(sample, y, lr, w1, b1, w2, b2, w3, b3):
    # a deliberately simple 'update' the test can predict: every array moves by lr
    for array in (w1, b1, w2, b2, w3, b3):
        array -= lr
"""
CALLS = """
for i in range(2):
    train_one_sample(x[i], y[i], 0.5, weights_1, biases_1, weights_2, biases_2, weights_output, biases_output)
"""


def test_extra_parameters_are_bound_as_the_notebooks_own_calls_pass_them(tools):
    namespace = notebook(STEP, CALLS, **six_globals(), x=np.zeros((2, 784)), y=[1, 2])
    found = tools.find(namespace)
    tools.write(namespace, found, *grader_params())
    train = tools.bound(namespace, "train_one_sample", found)
    train(np.zeros(784), 3, learning_rate=0.25)  # the grader's rate reaches `lr`
    after = tools.read(namespace, found)
    np.testing.assert_allclose(after[0], grader_params()[0][0] - 0.25)
    np.testing.assert_allclose(after[5], 0.5 - 0.25)


def test_extra_parameters_bound_by_name_and_a_returned_network_is_kept(tools):
    returning = (
        "def train_one_sample(sample, y, weights_1, biases_1, weights_2, biases_2,"
        " weights_output, biases_output):\n"
        "    return (weights_1 + 1, biases_1 + 1, weights_2 + 1, biases_2 + 1,"
        " weights_output + 1, biases_output + 1)\n"
    )
    namespace = notebook(returning, **six_globals())  # never called in the notebook
    found = tools.find(namespace)
    saved = tools.save(namespace, found)
    before = tools.read(namespace, found)
    train = tools.bound(namespace, "train_one_sample", found)
    result = train(np.zeros(784), 3)
    assert len(result) == 6
    for old, new in zip(before, tools.read(namespace, found), strict=True):
        np.testing.assert_allclose(new, old + 1)
    tools.restore(namespace, saved)
    np.testing.assert_array_equal(tools.read(namespace, found)[0], before[0])


def test_positional_extras_fall_back_to_the_networks_arrays_in_layer_order(tools):
    namespace = notebook(
        "def forward(sample, a, b, c, d, e, f):\n    return [a.shape, b.shape, c.shape, f.shape]\n",
        params={"W1": np.zeros((784, 32)), "W2": np.zeros((32, 32)), "W3": np.zeros((32, 10))}
        | {"b1": np.zeros(32), "b2": np.zeros(32), "b3": np.zeros(10)},
    )
    found = tools.find(namespace)
    forward = tools.bound(namespace, "forward", found)
    assert forward(np.zeros(784)) == [(784, 32), (32,), (32, 32), (10,)]


def test_six_positional_extras_named_as_weights_then_biases_get_their_arrays(tools):
    namespace = notebook(
        "def forward(sample, w1, w2, w3, bias1, bias2, bias3):\n"
        "    return [w1.shape, w3.shape, bias1.shape, bias3.shape]\n",
        **six_globals("out_in"),
    )
    forward = tools.bound(namespace, "forward", tools.find(namespace))
    assert forward(np.zeros(784)) == [(32, 784), (10, 32), (32,), (10,)]
