"""Weights read from a file are named, flagged for a TA, and keep their points by default.

A real `dlgrade grade --quick --problems 4,5` of a class built from the
full-marks example: a P5 `train_one_epoch` that loads weights a real
training of the reference wrote; a P5 notebook that starts from loaded
weights and trains 2 epochs instead of 3; a P4 model restored with
`torch.load` + `load_state_dict` from a model trained here; and the honest
full-marks notebooks (P4 saving and reloading its own model), which are not flagged.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from checks.scoring import CheckFailed, PartialCredit
from checks.weights_source import (
    PROBE_CELL,
    Load,
    apply_credit,
    epochs_concern,
    weight_loads,
)
from dlgrade.cli import main
from dlgrade.data import load
from dlgrade.engine.sandbox import SHIM_DIR
from reference import numpy_backprop as ref

FULL_MARKS = (
    Path(__file__).resolve().parents[1] / "submissions" / "examples" / "fall2023-full-marks"
)
P5_NOTEBOOK = "dlf23_hw1_prob5.ipynb"
P4_NOTEBOOK = "hw1p4.ipynb"

LOADING_EPOCH = """def train_one_epoch(learning_rate=0.003):
    print("Training for one epoch over the training dataset...")
    saved = np.load("trained_weights.npz")
    for i in range(3):
        weights[i][...] = saved[f"w{i}"]
        biases[i][...] = saved[f"b{i}"]
    print("Finished training.\\n")

feed_forward_test_data()

def test_and_train():
    train_one_epoch()
    feed_forward_test_data()

for i in range(3):
    test_and_train()"""
WARM_START = """import pickle
with open("start.pkl", "rb") as handle:
    start = pickle.load(handle)
for i in range(3):
    weights[i][...] = start[i]"""
CHECKPOINT = """torch.save(model.state_dict(), "checkpoint.pt")
model.load_state_dict(torch.load("checkpoint.pt"))"""
RESTORED = """n_epochs = 5
train_losses = [0.55, 0.40, 0.36, 0.33, 0.31]
test_losses = [0.47, 0.42, 0.39, 0.37, 0.36]
model.load_state_dict(torch.load("fashion_model.pt"))"""

pytestmark = pytest.mark.slow


def _edited(source: Path, target: Path, edit) -> None:
    notebook = nbformat.read(source, as_version=4)
    edit(notebook.cells)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def _cell_index(cells, start: str) -> int:
    return next(i for i, c in enumerate(cells) if c.source.lstrip().startswith(start))


def _p5_trained() -> ref.Params:
    """A real training: one epoch of the reference on the quick slice, weights (n_in, n_out)."""
    mnist = load("mnist")
    params = ref.train_epoch(ref.init_params(), mnist.x_train[:6000], mnist.y_train[:6000])
    return ref.orient(params, "in_out")


def _p4_state(path: Path) -> None:
    """A FashionNet like the notebook's, trained here for 2 epochs on 6000 images."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    fashion = load("fashion-mnist")
    x = torch.tensor(fashion.x_train[:6000].reshape(-1, 784) / 255.0, dtype=torch.float32)
    y = torch.tensor(fashion.y_train[:6000], dtype=torch.long)
    layers = {"fc1": nn.Linear(784, 256), "fc2": nn.Linear(256, 128)}
    layers |= {"fc3": nn.Linear(128, 64), "fc4": nn.Linear(64, 10)}
    model = nn.ModuleDict(layers)

    def forward(batch):
        for name in ("fc1", "fc2", "fc3"):
            batch = torch.relu(model[name](batch))
        return model["fc4"](batch)

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        for start in range(0, len(x), 64):
            optimizer.zero_grad()
            nn.functional.cross_entropy(
                forward(x[start : start + 64]), y[start : start + 64]
            ).backward()
            optimizer.step()
    torch.save(model.state_dict(), path)


def _class(tmp: Path) -> Path:
    root = tmp / "class"
    trained = _p5_trained()
    loader = root / "loader"  # P5 loads in train_one_epoch, P4 restores its model
    _edited(FULL_MARKS / P5_NOTEBOOK, loader / P5_NOTEBOOK, _replace("# Q4.", LOADING_EPOCH))
    arrays = {f"w{i}": w for i, w in enumerate(trained.weights)}
    np.savez(
        loader / "trained_weights.npz",
        **arrays,
        **{f"b{i}": b for i, b in enumerate(trained.biases)},
    )
    warm = root / "p5-warm-two-epochs"

    def warm_edit(cells):
        index = _cell_index(cells, "# Q4.")
        cells[index].source = cells[index].source.replace(
            "for i in range(3):", "for i in range(2):"
        )
        cells.insert(index, nbformat.v4.new_code_cell(WARM_START))

    _edited(FULL_MARKS / P5_NOTEBOOK, warm / P5_NOTEBOOK, warm_edit)
    (warm / "start.pkl").write_bytes(pickle.dumps(list(trained.weights)))
    _edited(FULL_MARKS / P4_NOTEBOOK, loader / P4_NOTEBOOK, _replace("n_epochs = 5", RESTORED))
    _p4_state(loader / "fashion_model.pt")
    honest = root / "honest"  # the full-marks notebooks; P4 also saves and reloads its model
    shutil.copytree(FULL_MARKS, honest, ignore=shutil.ignore_patterns("*.toml", "HW1P3*"))

    def checkpoint(cells):
        index = _cell_index(cells, "n_epochs = 5")
        cells.insert(index + 1, nbformat.v4.new_code_cell(CHECKPOINT))

    _edited(FULL_MARKS / P4_NOTEBOOK, honest / P4_NOTEBOOK, checkpoint)
    return root


def _replace(start: str, source: str):
    """An edit replacing the cell that starts with `start` by `source`."""

    def edit(cells):
        cells[_cell_index(cells, start)].source = source

    return edit


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("loaded")
    out = tmp / "out"
    argv = ["grade", str(_class(tmp)), "--out", str(out), "--quick", "--problems", "4,5"]
    # One student at a time: two torch kernels at once are killed on a small machine.
    assert main([*argv, "--no-similarity", "--no-progress", "--jobs", "1"]) == 0
    return out


def _result(out: Path, student: str, part: str) -> dict:
    record = json.loads((out / student / "grade.json").read_text())
    return next(r for r in record["results"] if r["part"] == part)


def _observed(out: Path, student: str) -> list[tuple[str, str, str]]:
    """(kind, file, message) of each observation on the student's record."""
    record = json.loads((out / student / "grade.json").read_text())
    return [(o["kind"], o["source"], o["message"]) for o in record["observations"]]


def test_a_train_one_epoch_that_loads_weights_is_named_and_flagged(graded: Path):
    q4 = _result(graded, "loader", "5-q4")
    assert q4["status"] == "passed" and q4["points"] == q4["max_points"]  # default: keep points
    source = q4["details"]["weights_source"]
    assert source.startswith("the weights train_one_epoch left came from a file")
    assert "numpy.load('trained_weights.npz[w0]')" in source and "returned 784x32" in source
    assert ("weights-loaded", P5_NOTEBOOK, source) in _observed(graded, "loader")
    assert "weights-loaded in dlf23_hw1_prob5.ipynb" in (graded / "index.html").read_text()


def test_a_warm_start_and_two_epochs_are_both_named(graded: Path):
    q4 = _result(graded, "p5-warm-two-epochs", "5-q4")
    source = q4["details"]["weights_source"]
    assert "the trained weights came from a file" in source
    assert "pickle.load('start.pkl') in cell" in source and "784x32, 32x32, 32x10" in source
    assert "the notebook trained 2 epochs; the assignment asks for 3" in source
    kinds = {kind for kind, _, _ in _observed(graded, "p5-warm-two-epochs")}
    assert {"weights-loaded", "epochs-differ"} <= kinds


def test_a_p4_model_restored_with_torch_load_is_named_and_flagged(graded: Path):
    accuracy = _result(graded, "loader", "4-acc")
    source = accuracy["details"]["weights_source"]
    assert source.startswith("`model`'s weights came from a file")
    assert "torch.load('fashion_model.pt') in cell" in source and "256x784" in source
    assert "load_state_dict(...)" in source
    assert accuracy["points"] > 0  # the restored model is a trained one: points kept by default
    assert ("weights-loaded", P4_NOTEBOOK, source) in _observed(graded, "loader")
    assert "weights-loaded in hw1p4.ipynb" in (graded / "index.html").read_text()


def test_honest_notebooks_are_not_flagged(graded: Path):
    kinds = {kind for kind, _, _ in _observed(graded, "honest")}
    assert "kernel-died" not in kinds  # both notebooks really ran
    assert "weights-loaded" not in kinds and "epochs-differ" not in kinds
    for part in ("5-q4", "4-acc"):
        result = _result(graded, "honest", part)
        assert result["status"] == "passed" and "weights_source" not in result["details"]


def test_the_manifest_setting_can_take_the_points_away():
    concern = "the trained weights came from a file"
    assert apply_credit(concern, 1.0) == 1.0  # the default: flagged, points kept
    assert apply_credit("", 0.0) == 1.0  # nothing loaded: nothing taken
    with pytest.raises(PartialCredit) as partial:
        apply_credit(concern, 0.5, fraction=0.8)
    assert partial.value.fraction == pytest.approx(0.4) and concern in partial.value.message
    with pytest.raises(CheckFailed, match="gives 0% of the points"):
        apply_credit(concern, 0.0)


def test_only_loads_shaped_like_the_graded_weights_before_they_were_taken_count():
    data = Load(1, "numpy.load", "mnist.npz[x_train]", ((60000, 28, 28),))
    early = Load(3, "numpy.load", "w.npy", ((32, 784),))
    late = Load(9, "torch.load", "w.pt", ((784, 32),))
    probed = Load(PROBE_CELL, "pickle.load", "w.pkl", ((32, 10),))
    shapes = [(784, 32), (32, 32), (32, 10)]
    assert weight_loads([data, early, late], shapes, last_cell=5) == [early]
    assert weight_loads([data, probed], shapes, None) == [probed]
    # A file the notebook saved itself holds its own training; a state dict restored
    # from memory (the best epoch kept with copy.deepcopy) is no file.
    saved = Load(2, "numpy.savez", "w", ())
    own = Load(4, "numpy.load", "w.npz[w0]", ((784, 32),))
    restored = Load(4, "load_state_dict", "", ((32, 784),))
    assert weight_loads([saved, own, restored], shapes, None) == []
    assert weight_loads([own, restored], shapes, None) == [own, restored]
    assert epochs_concern(3) is None
    assert epochs_concern(1).message == "the notebook trained 1 epoch; the assignment asks for 3"


def test_the_shim_finds_weights_inside_what_a_loader_returned():
    # np.save of a list of arrays stores an object array; np.save of a dict a 0-d one
    path = SHIM_DIR / "_dlgrade_shim" / "loads.py"
    spec = importlib.util.spec_from_file_location("shim_loads", path)
    loads = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loads)
    ragged = np.empty(2, dtype=object)
    ragged[:] = [np.zeros((784, 32)), np.zeros((32, 10))]
    found: list = []
    loads._shapes(ragged, found, 0)
    loads._shapes(np.array({"W1": np.zeros((32, 32))}, dtype=object), found, 0)
    assert found == [[784, 32], [32, 10], [32, 32]]
