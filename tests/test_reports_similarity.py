"""Code similarity: copies with renamed variables flag, independent work and starter code do not."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nested_notebook import deeply_nested_notebook
from notebook_files import write_notebook

from reports.render import render_similarity
from reports.similarity import (
    SimilarityReport,
    code_files,
    find_similar,
    notebook_code,
    submission_code,
)

STARTER_CELLS = [
    "import numpy as np\nimport matplotlib.pyplot as plt\n%matplotlib inline\n",
    """def sigmoid(x):
    x = np.clip(x, -500, 500)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))

def dsigmoid(x):
    return sigmoid(x) * (1 - sigmoid(x))

def softmax(x):
    shifted = np.exp(x - np.max(x))
    return shifted / np.sum(shifted)

def cross_entropy_loss(y, yHat):
    return -np.sum(y * np.log(yHat))

def integer_to_one_hot(x, max):
    one_hot = np.zeros(max)
    one_hot[x] = 1
    return one_hot
""",
    "import math\nfrom numpy.random import default_rng\nrng = default_rng(80085)\n",
]

SOLUTION_A = """
sizes = [784, 32, 32, 10]
weights = [rng.normal(0, 1 / math.sqrt(max(a, b)), size=(b, a)) for a, b in zip(sizes, sizes[1:])]
biases = [np.zeros(b) for b in sizes[1:]]

def feed_forward_sample(sample, y):
    activation = sample.flatten()
    for layer, (w, b) in enumerate(zip(weights, biases)):
        z = w @ activation + b
        activation = softmax(z) if layer == len(weights) - 1 else sigmoid(z)
    loss = cross_entropy_loss(integer_to_one_hot(y, 10), activation)
    guess = integer_to_one_hot(np.argmax(activation), 10)
    return loss, guess

def train_one_sample(sample, y, learning_rate=0.003):
    a = sample.flatten()
    activations, pre = [a], []
    for layer, (w, b) in enumerate(zip(weights, biases)):
        z = w @ activations[-1] + b
        pre.append(z)
        activations.append(softmax(z) if layer == len(weights) - 1 else sigmoid(z))
    delta = activations[-1] - integer_to_one_hot(y, 10)
    for layer in reversed(range(len(weights))):
        grad_w = np.outer(delta, activations[layer])
        grad_b = delta
        if layer > 0:
            delta = (weights[layer].T @ delta) * dsigmoid(pre[layer - 1])
        weights[layer] -= grad_w * learning_rate
        biases[layer] -= grad_b * learning_rate
"""

# SOLUTION_A with every name changed, comments added and spacing altered.
SOLUTION_A_RENAMED = """
# my own network
dims = [784, 32, 32, 10]
weights = [rng.normal(0, 1 / math.sqrt(max(n_in, n_out)), size=(n_out, n_in)) for n_in, n_out in zip(dims, dims[1:])]
biases = [np.zeros(n_out) for n_out in dims[1:]]

def feed_forward_sample(image, label):
    act = image.flatten()
    for idx, (W, B) in enumerate(zip(weights, biases)):
        zz = W @ act + B
        act = softmax(zz) if idx == len(weights) - 1 else sigmoid(zz)   # output layer
    l = cross_entropy_loss(integer_to_one_hot(label, 10), act)
    prediction = integer_to_one_hot(np.argmax(act), 10)
    return l, prediction

def train_one_sample(image, label, learning_rate=0.003):
    a = image.flatten()
    acts, zs = [a], []
    for idx, (W, B) in enumerate(zip(weights, biases)):
        zz = W @ acts[-1] + B
        zs.append(zz)
        acts.append(softmax(zz) if idx == len(weights) - 1 else sigmoid(zz))
    err = acts[-1] - integer_to_one_hot(label, 10)
    for idx in reversed(range(len(weights))):
        gW = np.outer(err, acts[idx])
        gB = err
        if idx > 0:
            err = (weights[idx].T @ err) * dsigmoid(zs[idx - 1])
        weights[idx] -= gW * learning_rate
        biases[idx] -= gB * learning_rate
"""

# A genuinely different approach: explicit layers, row-vector orientation, loops unrolled.
SOLUTION_INDEPENDENT = """
def init_layer(n_in, n_out):
    std = (1.0 / max(n_in, n_out)) ** 0.5
    return rng.normal(0.0, std, (n_in, n_out)), np.zeros(n_out)

W1, b1 = init_layer(784, 32)
W2, b2 = init_layer(32, 32)
W3, b3 = init_layer(32, 10)
weights, biases = [W1, W2, W3], [b1, b2, b3]

def forward(x):
    h1 = sigmoid(x.reshape(-1) @ weights[0] + biases[0])
    h2 = sigmoid(h1 @ weights[1] + biases[1])
    out = softmax(h2 @ weights[2] + biases[2])
    return h1, h2, out

def feed_forward_sample(sample, y):
    _, _, probs = forward(sample)
    target = integer_to_one_hot(y, 10)
    best = int(probs.argmax())
    return cross_entropy_loss(target, probs), integer_to_one_hot(best, 10)

def train_one_sample(sample, y, learning_rate=0.003):
    x = sample.reshape(-1)
    h1, h2, out = forward(sample)
    g3 = out - integer_to_one_hot(y, 10)
    g2 = (g3 @ weights[2].T) * h2 * (1.0 - h2)
    g1 = (g2 @ weights[1].T) * h1 * (1.0 - h1)
    updates = [(np.outer(x, g1), g1), (np.outer(h1, g2), g2), (np.outer(h2, g3), g3)]
    for i, (dw, db) in enumerate(updates):
        weights[i] -= learning_rate * dw
        biases[i] -= learning_rate * db
"""


def _notebook(path: Path, cells: list[str]) -> Path:
    return write_notebook(path, nbformat.v4.new_markdown_cell("# HW1 problem 5"), *cells)


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    return _notebook(tmp_path / "starter" / "hw1_prob5_starter.ipynb", STARTER_CELLS)


def _class(tmp_path: Path, solutions: dict[str, str]) -> dict[str, Path]:
    folders = {}
    for name, code in solutions.items():
        folder = tmp_path / "class" / name
        _notebook(folder / f"{name}_hw1p5.ipynb", [*STARTER_CELLS, code])
        folders[name] = folder
    return folders


def test_copy_with_renamed_variables_is_flagged_independent_work_is_not(tmp_path, starter):
    folders = _class(
        tmp_path, {"ann": SOLUTION_A, "bob": SOLUTION_A_RENAMED, "cy": SOLUTION_INDEPENDENT}
    )
    report = find_similar(folders, [starter], threshold=0.5)
    assert [(p.a, p.b) for p in report.pairs] == [("ann", "bob")]
    assert report.pairs[0].score >= 0.8
    assert report.groups() == [["ann", "bob"]]
    assert "<mark>" in report.pairs[0].html_a
    # The independent solution shares little even at a low bar.
    low = find_similar(folders, [starter], threshold=0.0)
    scores = {(p.a, p.b): p.score for p in low.pairs}
    print("similarity scores at threshold 0:", scores)
    assert max(scores.get(("ann", "cy"), 0), scores.get(("bob", "cy"), 0)) < 0.3


def test_starter_only_submissions_do_not_flag(tmp_path, starter):
    folders = _class(tmp_path, {"dee": "", "eve": "print('done')\n"})
    report = find_similar(folders, [starter], threshold=0.1)
    assert report.pairs == ()
    assert "dee" in report.no_code  # nothing at all left once the starter is removed


def test_without_the_starter_the_shared_helpers_would_flag(tmp_path, starter):
    # Shows why the starter is subtracted: the given helpers alone look like a copy.
    folders = _class(tmp_path, {"dee": "", "eve": ""})
    assert find_similar(folders, [], threshold=0.5).pairs != ()


def test_malformed_notebook_is_skipped_not_fatal(tmp_path, starter):
    folders = _class(tmp_path, {"ann": SOLUTION_A, "bob": SOLUTION_A_RENAMED})
    (folders["bob"] / "broken.ipynb").write_text('{"cells": [')  # truncated JSON
    code = submission_code(folders["bob"])
    assert "broken.ipynb (unreadable, not compared)" in code
    report = find_similar(folders, [starter], threshold=0.5)
    assert [(p.a, p.b) for p in report.pairs] == [("ann", "bob")]


def test_code_extraction_skips_hidden_folders_and_comments_magics(tmp_path, starter):
    folder = tmp_path / "sub"
    _notebook(folder / "a.ipynb", ["%matplotlib inline\nx = 1\n!pip install torch"])
    _notebook(folder / ".ipynb_checkpoints" / "a-checkpoint.ipynb", ["y = 2"])
    (folder / "helper.py").write_text("z = 3\n")
    assert [p.name for p in code_files(folder)] == ["a.ipynb", "helper.py"]
    assert notebook_code(folder / "a.ipynb") == "# %matplotlib inline\nx = 1\n# !pip install torch"
    assert "z = 3" in submission_code(folder) and "y = 2" not in submission_code(folder)


def test_similarity_page_and_round_trip(tmp_path, starter):
    folders = _class(tmp_path, {"ann": SOLUTION_A, "bob": SOLUTION_A_RENAMED})
    report = find_similar(folders, [starter])
    html = render_similarity(report)
    assert "ann" in html and "bob" in html and "<mark>" in html
    assert "hw1_prob5_starter.ipynb" in html
    again = SimilarityReport.from_dict(report.to_dict())
    assert again.pairs == report.pairs and again.partners() == {"ann": ["bob"], "bob": ["ann"]}


def test_a_deeply_nested_notebook_marks_its_student_and_the_rest_are_compared(tmp_path, starter):
    folders = _class(tmp_path, {"ann": SOLUTION_A, "bob": SOLUTION_A_RENAMED})
    deep = tmp_path / "class" / "deb"
    deeply_nested_notebook(deep / "hw1p5.ipynb", SOLUTION_INDEPENDENT)
    report = find_similar({**folders, "deb": deep}, [starter], threshold=0.5)
    assert [(p.a, p.b) for p in report.pairs] == [("ann", "bob")]
    assert report.not_compared == (
        (
            "deb",
            "left out: cannot read notebook hw1p5.ipynb: nested deeper than the JSON reader's limit",
        ),
    )
    assert "deb" in report.no_code and "deb" not in report.compared
    html = render_similarity(report)
    assert "<b>deb</b>: left out: cannot read notebook hw1p5.ipynb" in html
    again = SimilarityReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.not_compared == report.not_compared


def test_code_under_a_dot_folder_is_found(tmp_path, starter):
    # A class stored under ~/.local/... or /srv/.grading/...: only the path below the
    # submission folder decides what is hidden.
    hidden_root = tmp_path / ".grading" / "fall"
    folders = _class(hidden_root, {"ann": SOLUTION_A, "bob": SOLUTION_A_RENAMED})
    _notebook(folders["ann"] / ".ipynb_checkpoints" / "old-checkpoint.ipynb", ["w = 1"])
    assert [p.name for p in code_files(folders["ann"])] == ["ann_hw1p5.ipynb"]
    report = find_similar(folders, [starter], threshold=0.5)
    assert report.no_code == () and report.compared == ("ann", "bob")
    assert [(p.a, p.b) for p in report.pairs] == [("ann", "bob")]


def test_a_student_whose_code_breaks_the_tokeniser_is_marked_not_fatal(
    tmp_path, starter, monkeypatch
):
    import reports.similarity as similarity

    folders = _class(tmp_path, {"ann": SOLUTION_A, "bob": SOLUTION_A_RENAMED, "cy": "x = 1\n" * 9})
    real = similarity._fingerprint

    def fingerprint(name, code, boilerplate):
        if name == "cy":
            raise IndexError("tokeniser tripped")  # stands in for a bug on odd input
        return real(name, code, boilerplate)

    monkeypatch.setattr(similarity, "_fingerprint", fingerprint)
    report = find_similar(folders, [starter], threshold=0.5)
    assert report.not_compared == (("cy", "not compared: IndexError: tokeniser tripped"),)
    assert [(p.a, p.b) for p in report.pairs] == [("ann", "bob")]


def test_a_students_link_is_named_not_read_and_a_linked_starter_is_read(tmp_path, starter):
    # bob's copy of ann's solution is a link: following it would flag a copy (and read
    # whatever the link names with the grader's rights); the TA's own starter may be a link.
    folders = _class(tmp_path, {"ann": SOLUTION_A, "dee": "", "eve": ""})
    folders["bob"] = tmp_path / "class" / "bob"
    folders["bob"].mkdir()
    (folders["bob"] / "bob_hw1p5.ipynb").symlink_to(folders["ann"] / "ann_hw1p5.ipynb")
    linked_starter = tmp_path / "starter-link.ipynb"
    linked_starter.symlink_to(starter)
    report = find_similar(folders, [linked_starter], threshold=0.5)
    assert report.pairs == () and "bob" in report.no_code
    assert report.not_compared == (
        ("bob", f"left out: `bob_hw1p5.ipynb` is a link to `{folders['ann']}/ann_hw1p5.ipynb`: not graded"),
    )  # fmt: skip
    # dee and eve hold the starter's code only: read through its link, it was subtracted
    assert ("dee", "eve") in [(p.a, p.b) for p in find_similar(folders, [], threshold=0.5).pairs]
