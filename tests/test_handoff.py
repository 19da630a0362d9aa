"""A problem the grader recognises but cannot run is handed to a TA, with what the student saved.

Unit tests of checks.handoff on notebooks written here, and the real `dlgrade
grade` of the field folder p4-keras (problem 4 in tf.keras): its parts are
`manual`, never "no notebook for problem 4", and the student report shows the
notebook's saved figures and printed outputs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import pytest
from field_folders import grade_problem_4
from notebook_files import code_cell, write_notebook

from checks.handoff import PNG_PREFIX, find_handoff, review_details
from checks.scoring import ForReview, HandedToTA, prerequisite_failed
from dlgrade.cli import main
from dlgrade.engine.records import SourceFile
from dlgrade.records import PartStatus

# A 1x1 PNG: what a saved figure looks like inside a notebook.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
KERAS = (
    "import tensorflow as tf\nfrom tensorflow import keras\n"
    "(x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()\n"
    "model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(256, activation='relu')])"
)


def notebook(tmp_path: Path, name: str, *cells: str | nbformat.NotebookNode) -> SourceFile:
    return SourceFile(write_notebook(tmp_path / name, *cells), "ipynb", "ok")


def test_a_keras_fashion_network_is_recognised_as_problem_4(tmp_path):
    source = notebook(tmp_path, "hw1_p4.ipynb", KERAS)
    found = find_handoff("p4", [source])
    assert found is not None and found.framework == "TensorFlow/Keras"
    assert found.reason(saved=True).startswith(
        "hw1_p4.ipynb is problem 4 written in TensorFlow/Keras, which the grader cannot run"
    )
    jax = notebook(
        tmp_path,
        "p4_jax.ipynb",
        nbformat.v4.new_markdown_cell("Fashion-MNIST with JAX"),
        "import jax\nimport flax.linen as nn\nlayer = nn.Dense(256)",
    )
    assert find_handoff("p4", [jax]).framework == "JAX"


def test_mnist_through_keras_alone_is_not_a_problem_4(tmp_path):
    # The problem-5 starter loads MNIST with TensorFlow: no FashionMNIST, no Keras network.
    p5 = notebook(
        tmp_path,
        "hw1_p5.ipynb",
        "import tensorflow as tf\n(x, y), _ = tf.keras.datasets.mnist.load_data()",
    )
    prose_only = notebook(
        tmp_path,
        "notes.ipynb",
        nbformat.v4.new_markdown_cell("Fashion-MNIST is next week"),
        "import tensorflow as tf\nprint(tf.__version__)",
    )
    assert find_handoff("p4", [p5, prose_only]) is None
    assert find_handoff("p5", [notebook(tmp_path, "k.ipynb", KERAS)]) is None


def test_the_ta_sees_saved_figures_printed_outputs_and_the_last_comment(tmp_path):
    png = base64.b64encode(PNG).decode()
    source = notebook(
        tmp_path,
        "hw1_p4.ipynb",
        code_cell(
            KERAS,
            {"output_type": "stream", "name": "stderr", "text": "I0000 oneDNN custom operations\n"},
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "Epoch 1/2\n10/20 [==\r20/20 done\n",
            },
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}},
            {"output_type": "display_data", "data": {"image/png": "bm90IGEgcG5n"}},  # not a PNG
            {"output_type": "execute_result", "data": {"text/plain": "0.88"}, "execution_count": 1},
        ),
        nbformat.v4.new_markdown_cell("The model confuses shirts with T-shirts."),
    )
    details = review_details(find_handoff("p4", [source]))
    assert details["source"] == "hw1_p4.ipynb"
    assert details["images"] == [PNG_PREFIX + png]
    assert details["printed"] == "Epoch 1/2\n20/20 done\n0.88"  # progress bars as they ended
    assert details["text"] == "The model confuses shirts with T-shirts."


def test_a_manual_prerequisite_hands_the_part_over_with_its_details():
    reason = ForReview("hw1_p4.ipynb is problem 4 written in JAX", {"printed": "88 %"})
    with pytest.raises(HandedToTA) as raised:
        prerequisite_failed(reason, PartStatus.MANUAL)
    assert raised.value.message == "hw1_p4.ipynb is problem 4 written in JAX"
    assert raised.value.details == {"printed": "88 %"}


def test_a_keras_problem_4_is_graded_manual_with_its_saved_outputs_in_the_report(tmp_path):
    out, parts = grade_problem_4(tmp_path, "p4-keras")
    assert sorted(parts) == ["4-acc", "4-arch", "4-comment", "4-curves", "4-probs"]
    for result in parts.values():
        assert result["status"] == "manual", result
        assert "written in TensorFlow/Keras" in result["message"]
        assert "no notebook" not in result["message"]
    saved = parts["4-probs"]["details"]
    assert len(saved["images"]) == 2  # the loss curves and the probability figure
    assert "test accuracy:" in saved["printed"]
    page = (out / "p4-keras" / "report.html").read_text()
    assert "What the notebook printed" in page and PNG_PREFIX in page
    # The TA's points land on a handed-over part like on any part a TA grades.
    scores = tmp_path / "scores.csv"
    scores.write_text("student,part,points,comment\np4-keras,4-arch,5,right layers in Keras\n")
    assert main(["merge-manual", str(out), str(scores)]) == 0
    (record,) = json.loads((out / "grades.json").read_text())
    arch = next(r for r in record["results"] if r["part"] == "4-arch")
    assert (arch["status"], arch["points"]) == ("passed", 5.0)
