"""Every failure named for what it is, and no student's file stops the class report.

One real `dlgrade grade --quick` run of the harness's own checks over a class
of hostile submissions (real notebooks in real kernels):

* deb: a notebook nested past the JSON reader's limit (3 MB of nested lists
  in a cell's outputs). It once stopped the similarity step and with it every
  class file; now its parts are `malformed`.
* tam: a notebook that tampers with the kernel's messages. It once made every
  part `error: KeyError: 'msg_id'`; now `interfered`.
* kid: a notebook holding problems 3, 4 and 5 whose second cell kills its
  kernel. It was `skipped` in P3/P4 and `failed` with "calling ... failed: not
  run" in P5; now `failed` everywhere, naming the death and the cell.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import nbformat
import pytest
from graded_out import grade_in
from nested_notebook import deeply_nested_notebook
from notebook_files import write_notebook

from dlgrade.cli import main
from dlgrade.grading.batch import grade_class
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.runner import default_checks_dir

pytestmark = pytest.mark.slow

P5_CODE = "def train_one_sample(sample, y, learning_rate=0.003):\n    pass\n"
# Text that maps a notebook to problems 3, 4 and 5; it sits after the fatal cell, never runs.
ALL_PROBLEMS = (
    "from scipy.optimize import fsolve\nfrom torch import nn\n"
    "from torchvision.datasets import FashionMNIST\n"
    "model = nn.Sequential(nn.Linear(784, 10))\n" + P5_CODE
)
TAMPER = """ip = get_ipython()
session = ip.kernel.session
original = session.msg


def without_id(*args, **kwargs):
    message = original(*args, **kwargs)
    message["header"].pop("msg_id", None)
    return message


session.msg = without_id
"""
P5_PARTS = ("5-q1", "5-q2", "5-q3", "5-q4")
P4_PARTS = ("4-arch", "4-acc", "4-curves", "4-probs", "4-comment")


def _notebook(path: Path, *cells: str) -> None:
    write_notebook(path, nbformat.v4.new_markdown_cell("# HW1"), *cells)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    root = tmp_path_factory.mktemp("hostile-class")
    deeply_nested_notebook(root / "deb" / "hw1p5.ipynb", P5_CODE)
    _notebook(root / "tam" / "hw1p5.ipynb", TAMPER, P5_CODE)
    _notebook(root / "kid" / "hw1.ipynb", "import os\nos._exit(1)", ALL_PROBLEMS)
    out = root.parent / (root.name + "-out")
    argv = ["grade", str(root), "--out", str(out), "--quick", "--jobs", "2", "--no-progress"]
    return root, out, main([*argv, "--problems", "p3,p4,p5", "--assignment", "fall2023"])


def _parts(out: Path, student: str) -> dict[str, tuple[str, str]]:
    record = grade_in(out, student)
    assert record.status == "graded", record.observations
    return {r.part: (str(r.status), r.message) for r in record.results}


def test_the_class_gets_every_output(graded):
    _, out, code = graded
    assert code == 0
    for name in ("grades.csv", "grades.json", "index.html", "similarity.html", "similarity.json"):
        assert (out / name).is_file(), name
    for student in ("deb", "kid", "tam"):
        for name in ("grade.json", "results.json", "report.html"):
            assert (out / student / name).is_file(), (student, name)
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["deb", "kid", "tam"]
    assert {row["errors"] for row in rows.values()} == {"0"}  # none of this is a harness error


def test_a_notebook_nested_past_the_readers_limit_is_malformed(graded):
    _, out, _ = graded
    parts = _parts(out, "deb")
    limit = sys.getrecursionlimit()
    malformed = (
        "malformed",
        "malformed notebook: hw1p5.ipynb is nested too deeply to read: its JSON goes deeper "
        f"than the reader's limit (Python's recursion limit, {limit} levels); clear its outputs "
        "and re-save it from Jupyter",
    )
    assert {part: parts[part] for part in P5_PARTS} == dict.fromkeys(P5_PARTS, malformed)
    # Problem 4 was never in that file: it is missing, the student's plain failure.
    missing = ("failed", "no notebook for problem 4 was found (the folder has: hw1p5.ipynb)")
    assert {part: parts[part] for part in P4_PARTS} == dict.fromkeys(P4_PARTS, missing)


def test_tampering_with_kernel_messages_is_interfered(graded):
    _, out, _ = graded
    parts = _parts(out, "tam")
    interfered = (
        "interfered",
        "the notebook interfered with the grader's kernel messages in cell 2 "
        "(`ip = get_ipython()`); nothing its kernel reported can be trusted",
    )
    assert {part: parts[part] for part in P5_PARTS} == dict.fromkeys(P5_PARTS, interfered)
    record = grade_in(out, "tam")
    assert record.total == 0


def test_a_kernel_the_student_killed_is_failed_in_every_problem(graded):
    _, out, _ = graded
    parts = _parts(out, "kid")
    death = "the kernel died during cell 2 (`import os`); later cells were not run"
    expected = {
        "4-arch": f"{death}, so the grader could not reach the model",
        "4-acc": f"{death}, so the grader could not reach the model",
        "4-curves": f"{death}, so the grader could not reach the model",
        "5-q1": f"{death}, so the grader could not reach global lists `weights` and `biases`",
        "5-q2": f"{death}, so the grader could not reach feed_forward_sample(sample, y)",
        "5-q3": f"{death}, so the grader could not reach "
        "train_one_sample(sample, y, learning_rate)",
        "5-q4": f"{death}, so the grader could not reach train_one_epoch()",
    }
    assert {part: parts[part] for part in expected} == {
        part: ("failed", message) for part, message in expected.items()
    }
    # Judged on what the run left by check bodies of their own (P3 reads the value
    # history, 4-probs the figures): failed, and the message names the cell that killed it.
    for part in ("3a-1", "3a-2"):
        status, message = parts[part]
        assert status == "failed"
        assert message.endswith(". Note: cell 2 (`import os`) raised KernelDied: the kernel died")
    status, message = parts["4-probs"]
    assert status == "failed" and message.endswith(
        "; cell 3 (`from scipy.optimize import fsolve`) was not run: execution stopped after "
        "cell 2 (`import os`) raised KernelDied: the kernel died"
    )
    record = grade_in(out, "kid")
    assert [(c.source, c.cell, c.first_line, c.error) for c in record.failed_cells] == [
        ("hw1.ipynb", 2, "import os", "KernelDied: the kernel died")
    ]


def test_the_class_page_names_each_finding(graded):
    _, out, _ = graded
    index = (out / "index.html").read_text()
    assert "malformed in hw1p5.ipynb: hw1p5.ipynb is nested too deeply to read" in index
    assert (
        "interfered in hw1p5.ipynb: the notebook interfered with the grader&#39;s kernel" in index
    )
    assert "kernel-died in hw1.ipynb: the kernel died during cell 2 (exit status 1)" in index
    assert "similarity: left out: cannot read notebook hw1p5.ipynb" in index
    assert 'id="error-count">0<' in index


def test_a_rerun_resumes_and_rebuilds_the_class_files(graded):
    root, out, _ = graded
    (out / "index.html").unlink()
    again = grade_class(
        root, out, GradeOptions(checks_dir=default_checks_dir(), quick=True), jobs=1, progress=False
    )
    assert again.graded == [] and sorted(again.resumed) == ["deb", "kid", "tam"]
    assert (out / "index.html").is_file() and again.similarity is not None
    assert again.similarity.not_compared[0][0] == "deb"
