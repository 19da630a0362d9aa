"""A problem 4 whose data file the grader cannot supply is handed to a TA, part by part.

Unit tests of `checks.handoff.missing_data` on cell records written here, and
the real `dlgrade grade` of the field folder p4-kaggle-csv (written on Kaggle,
reading /kaggle/input/fashionmnist/fashion-mnist_train.csv): the parts that
need the data are `manual` and name the file, the network is still judged.
"""

from __future__ import annotations

from pathlib import Path

from field_folders import grade_problem_4
from nbformat import NotebookNode
from notebook_files import code_cell, write_notebook

from checks.handoff import for_review, missing_data
from dlgrade.engine.records import CellResult, NotebookRun, SourceFile

KAGGLE_CSV = "/kaggle/input/fashionmnist/fashion-mnist_train.csv"
READ = CellResult(
    2,
    "error",
    "FileNotFoundError",
    f"[Errno 2] No such file or directory: '{KAGGLE_CSV}'",
    first_line="train_df = pd.read_csv('/kaggle/input/fashionmnist/fashion-mnist_train.csv')",
)


def run_of(source: SourceFile, *cells: CellResult) -> NotebookRun:
    return NotebookRun(source, "ok", cells, {}, (), (), "none", 1.0)


def source_in(tmp_path: Path, *cells: NotebookNode) -> SourceFile:
    path = write_notebook(tmp_path / "fashion-mnist-mlp.ipynb", *cells)
    return SourceFile(path, "ipynb", "ok", ("p4",))


def test_a_missing_kaggle_csv_is_named_with_the_cell_that_read_it(tmp_path):
    later = CellResult(4, "error", "NameError", "name 'train_loader' is not defined")
    run = run_of(source_in(tmp_path), CellResult(1, "ok"), READ, CellResult(3, "ok"), later)
    found = missing_data(run, set())
    assert found is not None
    assert found.path == KAGGLE_CSV
    assert found.cell == 3
    assert found.reason(saved=False) == (
        f"fashion-mnist-mlp.ipynb reads its data from {KAGGLE_CSV} (cell 3), a file the grader "
        "cannot supply, so nothing that needs the data could run: a TA grades this part from its "
        "code (no saved outputs)"
    )


def test_other_failures_are_not_missing_data(tmp_path):
    source = source_in(tmp_path)
    weights = CellResult(2, "error", "FileNotFoundError", "No such file: 'model.pt'")
    named = CellResult(2, "error", "NameError", "name 'fashion_mnist_train' is not defined")
    assert missing_data(run_of(source, weights, named), set()) is None
    # A saved network named after the data set is no data: the student must hand it in.
    for name in ("fashion_mnist_mlp.pt", "/kaggle/working/fashion-mnist/model_final.pkl"):
        saved = CellResult(2, "error", "FileNotFoundError", f"No such file: '{name}'")
        assert missing_data(run_of(source, saved), set()) is None, name
    # A read in another problem's cells of the notebook is not problem 4's data.
    assert missing_data(run_of(source, READ), {0, 1, 3}) is None
    assert missing_data(run_of(source, READ), {2}) is not None


def test_the_idx_files_and_an_npz_are_fashion_mnist_files_too(tmp_path):
    source = source_in(tmp_path)
    idx = CellResult(1, "error", "FileNotFoundError", "'data/train-images-idx3-ubyte'")
    npz = CellResult(1, "error", "FileNotFoundError", 'No such file: "fashion_mnist.npz"')
    assert missing_data(run_of(source, idx), set()).path == "data/train-images-idx3-ubyte"
    assert missing_data(run_of(source, npz), set()).path == "fashion_mnist.npz"


def test_the_ta_sees_the_printed_outputs_the_student_saved(tmp_path):
    cell = code_cell(
        "print('test accuracy', acc)",
        {"output_type": "stream", "name": "stdout", "text": "test accuracy 0.89\n"},
    )
    reason = for_review(missing_data(run_of(source_in(tmp_path, cell), READ), set()))
    assert reason.endswith("a TA grades this part from its saved figures and printed outputs")
    assert reason.details["printed"] == "test accuracy 0.89"
    assert reason.details["source"] == "fashion-mnist-mlp.ipynb"


def test_a_kaggle_csv_notebook_hands_the_data_parts_to_a_ta(tmp_path):
    _, parts = grade_problem_4(tmp_path, "p4-kaggle-csv")
    # The network is defined in a cell that needs no data: still judged by the grader.
    assert parts["4-arch"]["status"] == "passed", parts["4-arch"]
    for part in ("4-acc", "4-curves", "4-probs"):
        assert parts[part]["status"] == "manual", parts[part]
        assert KAGGLE_CSV in parts[part]["message"]
        assert parts[part]["details"]["source"] == "fashion-mnist-mlp.ipynb"
