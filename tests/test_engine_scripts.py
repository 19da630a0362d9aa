"""A `.py` hand-in without cell markers runs statement by statement, as a notebook would."""

from __future__ import annotations

import textwrap

from dlgrade.engine import Probe, SandboxConfig, run_notebook
from dlgrade.engine.notebooks import MAX_SCRIPT_CELLS, notebook_from_python
from dlgrade.engine.records import SourceFile

SCRIPT = textwrap.dedent(
    '''\
    """Homework 1, problem 5 (run as a script)."""
    import numpy as np

    # initial weights: zeros, then trained below
    @np.vectorize
    def double(x):
        return 2 * x
    weights = np.zeros(3); biases = np.ones(2)

    for step in range(3):
        weights += 1

    print(final_accuracy)  # never defined: a NameError late in the script
    total = weights.sum() + biases.sum()
    # the end
    '''
)


def cells_of(script: str) -> list[str]:
    return [cell.source for cell in notebook_from_python(script).cells]


def test_a_script_without_markers_is_cut_before_each_top_level_statement():
    assert cells_of(SCRIPT) == [
        '"""Homework 1, problem 5 (run as a script)."""',
        "import numpy as np",
        "# initial weights: zeros, then trained below\n@np.vectorize\ndef double(x):\n"
        "    return 2 * x",
        "weights = np.zeros(3); biases = np.ones(2)",  # one line, one cell
        "for step in range(3):\n    weights += 1",
        "print(final_accuracy)  # never defined: a NameError late in the script",
        "total = weights.sum() + biases.sum()\n# the end",
    ]


def test_a_very_long_script_runs_as_at_most_max_script_cells_cells():
    script = "".join(f"x{i} = {i}\n" for i in range(MAX_SCRIPT_CELLS * 2 + 1))
    cells = cells_of(script)
    assert len(cells) <= MAX_SCRIPT_CELLS
    assert "\n".join(cells) == script.strip("\n")  # every statement kept, in order


def test_a_script_that_does_not_parse_stays_one_cell():
    broken = "import numpy as np\nweights = np.zeros((3,)\nprint(weights)\n"
    assert cells_of(broken) == [broken.strip("\n")]


def test_markers_still_decide_the_cells_when_there_are_any():
    marked = "# %%\nimport numpy as np\nx = 1\n# %%\ny = 2\n"
    assert cells_of(marked) == ["import numpy as np\nx = 1", "y = 2"]


def test_one_failing_line_of_a_script_costs_only_that_line(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    path = folder / "hw1_prob5.py"
    path.write_text(SCRIPT)
    config = SandboxConfig(cell_timeout_s=30, notebook_timeout_s=120, isolation="none")
    probe = Probe("end", "_dlgrade_emit('total', total)")
    run = run_notebook(SourceFile(path, "py", "ok"), [probe], config)
    failed = [(cell.index, cell.error_name) for cell in run.cells if cell.status == "error"]
    assert failed == [(5, "NameError")]
    assert run.probes["end"].values["total"] == 11.0  # the statement after it still ran
