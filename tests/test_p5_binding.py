"""Problem 5: the student's functions called as the notebook calls them (checks/kernel/p5_binding.py,
run here on plain namespaces as it runs in the kernel): Q4's re-training makes one of the
notebook's own calls again, whole, through the same binding as the other questions' calls."""

from __future__ import annotations

import numpy as np
import pytest
from test_p5_holders import notebook, student_init

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
