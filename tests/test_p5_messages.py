"""Problem 5 messages: the student's faults name their root cause; the grader's never blame
the student (checks/p5_interface.py, on hand-made run records)."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_files import write_notebook

from checks.p5_interface import explained, interface, probe_values
from checks.p5_values import GraderError
from checks.scoring import CheckFailed
from dlgrade.engine import CellResult, NotebookRun, ProbeResult
from dlgrade.engine.records import SourceFile

HOLDER = {"where": "`weights` and `biases`", "orientation": "in_out"}


def run_with(tmp_path: Path, probe: ProbeResult, cells: list[str], results: list[CellResult]):
    path = write_notebook(tmp_path / "hw1_prob5.ipynb", *cells)
    inventory = ProbeResult("p5_inventory", {"inventory": {}, "defined": {}})
    return NotebookRun(
        source=SourceFile(path, "ipynb", "ok", ("p5",)),
        status="errors",
        cells=tuple(results),
        probes={probe.name: probe, "p5_inventory": inventory},
        observations=(),
        figures=(),
        isolation="reduced",
        duration_s=1.0,
    )


COLAB = [
    "import numpy as np",
    "from tensorflow.python.ops.gen_array_ops import one_hot\ndef feed_forward_sample(s, y):\n"
    "    return 0.0, np.zeros(10)",
]
COLAB_RESULTS = [
    CellResult(0, "ok", first_line="import numpy as np"),
    CellResult(
        1,
        "error",
        "ModuleNotFoundError",
        "No module named 'tensorflow.python.ops.gen_array_ops'",
        first_line="from tensorflow.python.ops.gen_array_ops import one_hot",
    ),
]


def test_a_missing_function_names_the_cell_that_failed_to_define_it(tmp_path):
    probe = ProbeResult("p5_q2", {"holder": HOLDER, "missing": ["feed_forward_sample"]})
    run = run_with(tmp_path, probe, COLAB, COLAB_RESULTS)
    with pytest.raises(CheckFailed) as failed:
        interface(run, "p5_q2", "feed_forward_sample(sample, y)")
    assert failed.value.message == (
        "feed_forward_sample is not defined because cell 2 "
        "(`from tensorflow.python.ops.gen_array_ops import one_hot`) raised "
        "ModuleNotFoundError: No module named 'tensorflow.python.ops.gen_array_ops'"
    )


def test_a_students_name_error_is_explained_by_its_cell(tmp_path):
    probe = ProbeResult("p5_q2", {})
    run = run_with(tmp_path, probe, COLAB, COLAB_RESULTS)
    text = explained(run, "NameError: name 'feed_forward_sample' is not defined")
    assert text.endswith(
        "(feed_forward_sample is not defined because cell 2 "
        "(`from tensorflow.python.ops.gen_array_ops import one_hot`) raised "
        "ModuleNotFoundError: No module named 'tensorflow.python.ops.gen_array_ops')"
    )
    assert explained(run, "ValueError: shapes (28,28) and (784,32)") == (
        "ValueError: shapes (28,28) and (784,32)"
    )


@pytest.mark.parametrize(
    "error",
    [
        "KeyError: 'w0'",  # the grader's state setter
        "NameError: name '_dlgrade_p5_tools' is not defined",  # the grader's prelude
        "probe could not run: TypeError: bad call",
    ],
)
def test_an_error_in_the_graders_own_probe_is_a_harness_error(tmp_path, error):
    run = run_with(tmp_path, ProbeResult("p5_q3_raw", {}, error), COLAB, COLAB_RESULTS)
    with pytest.raises(GraderError, match="please report"):
        probe_values(run, "p5_q3_raw", "train_one_sample(sample, y, learning_rate)")
    assert not issubclass(GraderError, AssertionError)  # the plugin reports it as `error`


@pytest.mark.parametrize(
    "error",
    [
        "probe timed out after 900s",
        "not run: kernel died",
        "kernel died while the probe ran",
        "refused: 's0_w0' has dtype object; only bool/int/float arrays are accepted",
    ],
)
def test_a_probe_stopped_by_the_students_code_is_the_students_failure(tmp_path, error):
    run = run_with(tmp_path, ProbeResult("p5_q3_raw", {}, error), COLAB, COLAB_RESULTS)
    with pytest.raises(CheckFailed, match="the grader could not call train_one_sample"):
        probe_values(run, "p5_q3_raw", "train_one_sample(sample, y, learning_rate)")


def test_no_weights_says_why_weights_is_missing(tmp_path):
    cells = ["import numpy as np", "weights = \nbiases = "]
    results = [
        CellResult(0, "ok", first_line="import numpy as np"),
        CellResult(1, "error", "SyntaxError", "invalid syntax", first_line="weights ="),
    ]
    probe = ProbeResult("p5_q2", {"holder": None, "missing": []})
    run = run_with(tmp_path, probe, cells, results)
    with pytest.raises(CheckFailed, match="interface not found") as failed:
        interface(run, "p5_q2", "feed_forward_sample(sample, y)")
    assert "`weights` is not defined because cell 2 (`weights =`) raised SyntaxError" in (
        failed.value.message
    )
