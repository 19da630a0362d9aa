"""The problem-4 probe and watch on a real sandboxed kernel, with a training cell cut short.

One notebook (quick data slices) normalises by hand inside its training loop,
keeps its losses in a `history` dict, defines a second, untrained network,
and trains until the cell time limit interrupts it. The grader must grade the
trained network, recover the in-loop normalisation from what the first layer
received, find the history, and say the training cell was interrupted and at
which epoch.
"""

from __future__ import annotations

import re

import pytest
from notebook_files import write_notebook

from checks import p4_network as network
from checks.p4_inputs import fit_affine
from checks.p4_losses import loss_series
from checks.p4_training import read_training, training_note
from checks.probes import p4_probes, p4_watches
from dlgrade.data import load
from dlgrade.engine import SandboxConfig, run_notebook
from dlgrade.engine.records import SourceFile

pytestmark = pytest.mark.slow

CELLS = [
    "import time, torch, torchvision\n"
    "from torch import nn\n"
    "data = torchvision.datasets.FashionMNIST('data', train=True, download=True,\n"
    "                                        transform=torchvision.transforms.ToTensor())\n"
    "part = torch.utils.data.Subset(data, range(1000))  # a short epoch, so several fit in the limit\n"
    "loader = torch.utils.data.DataLoader(part, batch_size=100, shuffle=True)",
    "net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),\n"
    "                    nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))\n"
    "spare = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))\n"
    "opt = torch.optim.Adam(net.parameters(), lr=1e-3)",
    "history = {'train_loss': []}\n"
    "for epoch in range(10_000):\n"
    "    total = 0.0\n"
    "    for x, y in loader:\n"
    "        x = (x - 0.5) / 0.5\n"
    "        opt.zero_grad(); loss = nn.functional.cross_entropy(net(x), y); loss.backward(); opt.step()\n"
    "        total += loss.item()\n"
    "    history['train_loss'].append(total / len(loader))\n"
    # At most 600 epochs in the 60 s limit on any machine: more than 1000 values would
    # not read as a per-epoch loss (checks/p4_losses.py MAX_EPOCHS).
    "    time.sleep(0.1)",
]


def test_an_interrupted_training_is_graded_as_the_partial_run_it_is(tmp_path, cache):
    path = write_notebook(tmp_path / "s" / "hw1p4.ipynb", *CELLS)
    source = SourceFile(path, "ipynb", "ok", ("p4",))
    config = SandboxConfig(quick=True, cell_timeout_s=60, notebook_timeout_s=600, data_dir=cache)
    run = run_notebook(source, p4_probes(), config, watches=p4_watches())
    assert [c.status for c in run.cells] == ["ok", "ok", "timeout"], run.cells
    values = run.probe("p4_model").values
    trace = read_training(run)
    choice = network.choose(network.candidates(values), trace.steps)
    assert choice.candidate.name == "net" and "`spare`" in choice.why
    assert choice.steps and choice.steps > 0
    # the in-loop normalisation, read from what the first layer received
    rows = trace.inputs(choice.candidate.weight_ids, "train")
    fashion = load("fashion-mnist", data_dir=cache)
    assert fit_affine(rows, fashion.x_train[:1000].reshape(1000, -1)) == pytest.approx(
        (2 / 255, -1.0), rel=1e-4, abs=1e-5
    )
    train, _ = loss_series(values)
    assert train is not None, (values.get("series"), values.get("epochs"), choice.steps)
    assert train.name == "history['train_loss']"
    note = training_note(run, trace, choice.candidate.weight_ids, len(train.values), 10, False)
    assert note.kind == "interrupted"
    match = re.match(
        r"training cell interrupted after (\d+) s at epoch (\d+) \((\d+) full", note.message
    )
    assert match, note.message
    seconds, epoch, done = map(int, match.groups())
    assert 55 <= seconds <= 90
    # 10 batches of 100 per epoch: the steps say how far it got
    assert done == choice.steps // 10 and epoch == done + 1
    assert len(train.values) in (done - 1, done)
