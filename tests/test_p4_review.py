"""Problem 4: the comment and figures the TA reviews, and what the training history tells.

Runs are built by hand (NotebookRun records over a real notebook file), so
each case states exactly what the kernel reported.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
import numpy as np
from matplotlib.figure import Figure
from notebook_files import write_notebook

from checks.p4_comment import PNG_PREFIX, comment, figure_images, problem_cells
from checks.p4_training import read_training, training_note
from checks.probes import P4_WATCH
from dlgrade.engine import CellResult, FigureRecord, Kept, NotebookRun
from dlgrade.engine.records import SourceFile

P3_CODE = "from scipy.optimize import fsolve\ntheta = fsolve(lambda t: t, 0)"
P4_DATA = "import torchvision\ndata = torchvision.datasets.FashionMNIST('.', train=False)"
P4_TRAIN = "for epoch in range(60):\n    loss.backward()\n    optimizer.step()"
P4_PLOT = "import torch.nn as nn\nplt.barh(range(10), probs)\nplt.show()"


def write(tmp_path: Path, cells: list[tuple[str, str]], problems=("p3", "p4")) -> SourceFile:
    nodes = [nbformat.v4.new_markdown_cell(text) if kind == "md" else text for kind, text in cells]
    return SourceFile(write_notebook(tmp_path / "HW1.ipynb", *nodes), "ipynb", "ok", problems)


def run_of(source, cells=(), figures=(), kept=()) -> NotebookRun:
    return NotebookRun(
        source=source, status="ok", cells=tuple(cells), probes={}, observations=(),
        figures=tuple(figures), isolation="", duration_s=0.0,
        history={P4_WATCH: tuple(kept)} if kept else {},
    )  # fmt: skip


def png() -> bytes:
    buffer = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(buffer, format="png", dpi=20)
    return buffer.getvalue()


COMBINED = [
    ("md", "# Homework 1\nIntroduction: we report accuracy and losses for every problem."),
    ("code", P3_CODE),
    ("md", "The fit is exact."),
    ("code", P4_DATA),
    ("md", "## Problem 4\nWe train an MLP."),
    ("code", P4_PLOT),
    ("code", "print(accuracy)"),
    ("md", "The ankle boot is certain; the classes it confuses most are shirt and pullover."),
]


def test_the_comment_follows_the_last_problem4_figure(tmp_path):
    source = write(tmp_path, COMBINED)
    figures = [FigureRecord(0, 1, ()), FigureRecord(1, 5, (), png=png())]
    text, where = comment(run_of(source, figures=figures), figures)
    assert text.startswith("The ankle boot is certain")
    assert "Introduction" not in text and "cell 8" in where
    assert problem_cells(run_of(source))[0] == {3, 4, 5, 6, 7}


def test_without_a_figure_the_comment_is_the_markdown_about_results(tmp_path):
    cells = COMBINED[:5] + [("code", "x = 1"), ("md", "Test accuracy is 88 %; loss still falls."),
                            ("md", "Thanks for reading.")]  # fmt: skip
    text, _ = comment(run_of(write(tmp_path, cells)), [])
    assert text == "Test accuracy is 88 %; loss still falls."


def test_no_problem4_markdown_is_said(tmp_path):
    source = write(tmp_path, [("md", "# My notebook"), ("code", P4_DATA)], problems=("p4",))
    assert comment(run_of(source), []) == (
        "# My notebook",
        "markdown cell 1 (the last of problem 4)",
    )
    source = write(tmp_path, [("code", P3_CODE), ("md", "accuracy"), ("code", P4_DATA)])
    assert comment(run_of(source), [])[0] == ""


def test_figure_images_are_the_problem_figures_as_png_data(tmp_path):
    figures = [FigureRecord(0, 1, (), png=png()), FigureRecord(1, 5, (), png=png()),
               FigureRecord(2, 5, (), png=None)]  # fmt: skip
    images = figure_images(figures, {3, 4, 5})
    assert len(images) == 1 and images[0].startswith(PNG_PREFIX)
    assert base64.b64decode(images[0][len(PNG_PREFIX) :]) == png()
    assert figure_images(figures, {7}) == []


def steps_kept(*per_cell: tuple[int, int]) -> list[Kept]:
    kept = [Kept(0, "hooked", True, 0)]
    kept += [Kept(cell, "steps", {"42": n}, k + 1) for k, (cell, n) in enumerate(per_cell)]
    kept.append(Kept(2, "in_train_42", np.zeros((8, 784)), 99))
    return kept


def test_an_interrupted_training_cell_is_named_with_its_epoch(tmp_path):
    source = write(
        tmp_path, [("code", P4_DATA), ("code", "model = 1"), ("code", P4_TRAIN)], ("p4",)
    )
    cells = [CellResult(0, "ok"), CellResult(1, "ok"),
             CellResult(2, "timeout", first_line="for epoch in range(60):", duration_s=1800.4)]  # fmt: skip
    run = run_of(source, cells, kept=steps_kept((2, 938 * 37 + 100)))
    trace = read_training(run)
    assert trace.inputs((42,), "train").shape == (8, 784) and trace.inputs((7,), "train") is None
    note = training_note(run, trace, (42,), 37, 938, near_chance=False)
    assert note.kind == "interrupted"
    assert note.message.startswith("training cell interrupted after 1800 s at epoch 38 (37 full")
    assert "cell 3 (`for epoch in range(60):`) reached the time limit" in note.message
    finished = run_of(source, [CellResult(i, "ok") for i in range(3)], kept=steps_kept((2, 5000)))
    assert training_note(finished, read_training(finished), (42,), 5, 938, False) is None


def test_a_failed_training_cell_means_the_model_was_not_trained(tmp_path):
    source = write(tmp_path, [("code", P4_DATA), ("code", P4_TRAIN), ("code", P4_PLOT)], ("p4",))
    cells = [CellResult(0, "ok"),
             CellResult(1, "error", "NameError", "name 'optimzer' is not defined", first_line="for epoch in range(60):"),
             CellResult(2, "ok")]  # fmt: skip
    run = run_of(source, cells, kept=[Kept(0, "hooked", True, 0)])
    note = training_note(run, read_training(run), (42,), None, None, near_chance=True)
    assert note.kind == "never-trained"
    assert note.message == (
        "the model was not trained (no optimizer step ran): cell 2 (`for epoch in range(60):`) "
        "raised NameError: name 'optimzer' is not defined"
    )
    # a model that reached good accuracy was trained some other way: nothing to say
    assert training_note(run, read_training(run), (42,), None, None, near_chance=False) is None


def test_the_student_report_shows_the_comment_beside_the_figures():
    from dlgrade.records import CheckResult, GradeRecord
    from reports.render import render_student

    image = PNG_PREFIX + base64.b64encode(png()).decode("ascii")
    details = {"text": "The classes it confuses most are shirt and pullover.", "images": [image]}
    result = CheckResult(
        "4-comment", "Comment", 0.0, 5.0, "manual", "awaiting TA review", details=details
    )
    html = render_student(GradeRecord("ada", "fall2023", [result], duration_s=1.0))
    row = html[html.index('id="part-4-comment"') :]
    grid = row[row.index('class="grid2"') :]
    assert grid.index("The classes it confuses most") < grid.index(image)
    assert f'<img src="{image}" alt="student figure 1">' in grid


def test_a_training_cell_the_time_limit_skipped_is_out_of_time(tmp_path):
    source = write(tmp_path, [("code", P4_DATA), ("code", P4_TRAIN)], ("p4",))
    cells = [CellResult(0, "ok"), CellResult(1, "skipped", first_line="for epoch in range(60):")]
    run = run_of(source, cells, kept=[Kept(0, "hooked", True, 0)])
    note = training_note(run, read_training(run), (42,), None, None, near_chance=True)
    assert note.kind == "never-trained" and note.out_of_time
    assert "cell 2 (`for epoch in range(60):`) was not run" in note.message


def test_a_training_cell_failing_on_an_undefined_loader_names_the_cell_that_failed_to_define_it(
    tmp_path,
):
    read_csv = (
        "import pandas as pd\ntrain_df = pd.read_csv('fashion-mnist_train.csv')\ntrain_loader = 1"
    )
    source = write(tmp_path, [("code", read_csv), ("code", P4_TRAIN)], ("p4",))
    missing = "[Errno 2] No such file or directory: 'fashion-mnist_train.csv'"
    cells = [CellResult(0, "error", "FileNotFoundError", missing, first_line="import pandas as pd"),
             CellResult(1, "error", "NameError", "name 'train_loader' is not defined",
                        first_line="for epoch in range(60):")]  # fmt: skip
    run = run_of(source, cells, kept=[Kept(0, "hooked", True, 0)])
    note = training_note(run, read_training(run), (42,), None, None, near_chance=True)
    assert note.message == (
        "the model was not trained (no optimizer step ran): cell 2 (`for epoch in range(60):`) "
        "raised NameError: name 'train_loader' is not defined (`train_loader` is not defined "
        f"because cell 1 (`import pandas as pd`) raised FileNotFoundError: {missing})"
    )
