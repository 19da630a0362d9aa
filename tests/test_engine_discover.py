"""Discovery: problems mapped by content, overrides, malformed files (no kernel needed)."""

from __future__ import annotations

import json

import nbformat
from notebook_files import write_notebook

from dlgrade.engine import discover

P3 = """import numpy as np
from scipy.optimize import fsolve
def f(p):
    input = [0,1,2,3,4,5,6,7,8,9,10,11,12]
    output = [8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8]
    return [p[12] + sum(p[8+i]*max(0, p[i]*x + p[4+i]) for i in range(4)) - y for x, y in zip(input, output)]
solution = fsolve(f, np.random.normal(size=13))
"""
P4 = """import torch
import torchvision
trainingdata = torchvision.datasets.FashionMNIST('./FashionMNIST/', train=True, download=True,
    transform=torchvision.transforms.ToTensor())
class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(784, 256)
"""
P5 = """import tensorflow as tf
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(path="mnist.npz")
def train_one_sample(sample, y, learning_rate=0.003):
    a = sample.flatten()
"""
JACOBIAN = """import numpy as np
def softmax(z):
    e = np.exp(z - z.max()); return e / e.sum()
def softmax_jacobian(z):
    y = softmax(z); return np.diag(y) - np.outer(y, y)
"""


def test_realistic_notebooks_map_to_problems_by_content(tmp_path):
    write_notebook(tmp_path / "HW1P3.ipynb", P3)
    write_notebook(tmp_path / "hw1p4.ipynb", P4)
    write_notebook(tmp_path / "dlf23_hw1_prob5.ipynb", P5)
    (tmp_path / "answers.toml").write_text("[1a]\n")
    sub = discover(tmp_path)
    assert {p: [s.path.name for s in found] for p, found in sub.problems.items()} == {
        "p3": ["HW1P3.ipynb"],
        "p4": ["hw1p4.ipynb"],
        "p5": ["dlf23_hw1_prob5.ipynb"],
    }
    assert sub.answers == tmp_path / "answers.toml"
    assert sub.issues == () and all(s.status == "ok" for s in sub.sources)


def test_one_notebook_may_hold_several_problems_and_spring_tags(tmp_path):
    write_notebook(tmp_path / "everything.ipynb", P3, P5)
    write_notebook(tmp_path / "spring_p3.ipynb", JACOBIAN)
    sub = discover(tmp_path)
    everything = next(s for s in sub.sources if s.path.name == "everything.ipynb")
    spring = next(s for s in sub.sources if s.path.name == "spring_p3.ipynb")
    assert everything.problem_ids == ("p3", "p5")
    assert spring.problem_ids == () and spring.tags == ("softmax-jacobian",)


def test_submission_toml_overrides_the_mapping(tmp_path):
    write_notebook(tmp_path / "spring_p3.ipynb", JACOBIAN)
    write_notebook(tmp_path / "misc.ipynb", P4)
    (tmp_path / "submission.toml").write_text(
        '[problems]\np3 = "spring_p3.ipynb"\np2 = ["gone.ipynb"]\n'
    )
    sub = discover(tmp_path)
    assert [s.path.name for s in sub.for_problem("p3")] == ["spring_p3.ipynb"]
    assert [s.path.name for s in sub.for_problem("p4")] == ["misc.ipynb"]
    assert "p2" not in sub.problems
    assert any("gone.ipynb" in issue for issue in sub.issues)
    spring = next(s for s in sub.sources if s.path.name == "spring_p3.ipynb")
    assert spring.problem_ids == ("p3",)


def test_malformed_notebooks_are_recorded_not_raised(tmp_path):
    (tmp_path / "bad_json.ipynb").write_text('{"cells": [')
    (tmp_path / "v3.ipynb").write_text(
        json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [], "worksheets": []})
    )
    (tmp_path / "latin1.ipynb").write_bytes(
        '{"cells": [], "nbformat": 4, "x": "caf\xe9"}'.encode("latin-1")
    )
    no_outputs = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{"cell_type": "code", "source": ["x = 1"], "metadata": {}}],
    }
    (tmp_path / "no_outputs.ipynb").write_text(json.dumps(no_outputs))
    sub = discover(tmp_path)
    by_name = {s.path.name: s for s in sub.sources}
    assert "not valid notebook JSON" in by_name["bad_json.ipynb"].error
    assert "nbformat 3" in by_name["v3.ipynb"].error
    assert "not UTF-8" in by_name["latin1.ipynb"].error
    assert by_name["no_outputs.ipynb"].status == "ok"
    assert {s.status for n, s in by_name.items() if n != "no_outputs.ipynb"} == {"malformed"}


def test_python_files_and_checkpoints(tmp_path):
    (tmp_path / "prob5.py").write_text(
        "# %%\nimport numpy as np\n# %%\ndef train_one_sample(sample, y):\n    pass\n"
    )
    checkpoints = tmp_path / ".ipynb_checkpoints"
    checkpoints.mkdir()
    write_notebook(checkpoints / "HW1P3-checkpoint.ipynb", P3)
    sub = discover(tmp_path)
    assert [s.path.name for s in sub.sources] == ["prob5.py"]
    assert sub.sources[0].kind == "py" and sub.sources[0].problem_ids == ("p5",)


KAGGLE_P4 = """import pandas as pd
import torch.nn as nn
train = pd.read_csv("input/fashion-mnist_train.csv")
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""
PROSE_P4 = """import torch
from torch import nn
# Fashion-MNIST, loaded by hand from the IDX files
data = load_idx("data/train-images-idx3-ubyte")
model = nn.Linear(784, 10)
"""
TORCH_MNIST = """import torch
from torch import nn
mnist = torchvision.datasets.MNIST("./data", download=True)
model = nn.Linear(784, 10)
"""


def test_any_spelling_of_fashion_mnist_maps_to_p4_and_mnist_alone_does_not(tmp_path):
    write_notebook(tmp_path / "kaggle.ipynb", KAGGLE_P4)
    write_notebook(tmp_path / "prose.ipynb", PROSE_P4)
    write_notebook(tmp_path / "spaced.ipynb", PROSE_P4.replace("Fashion-MNIST", "fashion mnist"))
    write_notebook(tmp_path / "p5.ipynb", P5)
    write_notebook(tmp_path / "torch_mnist.ipynb", TORCH_MNIST)
    sub = discover(tmp_path)
    assert [s.path.name for s in sub.problems["p4"]] == [
        "kaggle.ipynb",
        "prose.ipynb",
        "spaced.ipynb",
    ]
    assert [s.path.name for s in sub.problems["p5"]] == ["p5.ipynb"]


HELPER_P4 = """import torch
from torch import nn
from fmnist_data import loaders  # the student's own helper module loads the data
train_loader, test_loader = loaders(batch_size=64)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""


def test_fashion_mnist_named_only_in_markdown_maps_to_p4_when_the_code_has_a_network(tmp_path):
    for name, code in (("p4.ipynb", HELPER_P4), ("numpy_only.ipynb", P5)):
        markdown = nbformat.v4.new_markdown_cell("# Problem 4: a Fashion-MNIST classifier")
        write_notebook(tmp_path / name, markdown, code)
    sub = discover(tmp_path)
    assert [s.path.name for s in sub.problems["p4"]] == ["p4.ipynb"]
    assert [s.path.name for s in sub.problems["p5"]] == ["numpy_only.ipynb"]
