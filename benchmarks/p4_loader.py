"""Epoch time of a student-style problem-4 loop in the sandbox, decoded batches on and off.

    python benchmarks/p4_loader.py [--epochs 2] [--repeat 2] [--threads 1] [--train-limit N]

Runs one notebook written the way students write problem 4 (FashionMNIST with
`transform=ToTensor()`, `DataLoader(batch_size=64, shuffle=True)`, the
784-256-128-64-10 ReLU MLP, Adam, a device chosen with
`torch.cuda.is_available()`) through `run_notebook`, alternately with the
shim's decoded batches (`SandboxConfig(decoded_datasets=True)`) and with
torchvision's per-image PIL path, and prints the epoch times the notebook
measured itself, their ratio, and the final training loss of each run (the
same seed and the same values give the same loss). Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import nbformat

from dlgrade.engine import Probe, SandboxConfig, SourceFile, run_notebook

CELLS = (
    """import time
import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision.transforms import ToTensor

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_data = torchvision.datasets.FashionMNIST("./data", train=True, download=True, transform=ToTensor())
train_loader = DataLoader(train_data, batch_size=64, shuffle=True)""",
    """model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 256), nn.ReLU(),
    nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 10),
).to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)""",
    """epoch_seconds, epoch_losses = [], []
for epoch in range({epochs}):
    start = time.perf_counter()
    total = 0.0
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
    epoch_seconds.append(time.perf_counter() - start)
    epoch_losses.append(total / len(train_data))
    print(f"epoch {{epoch + 1}}: {{epoch_seconds[-1]:.2f}} s, loss {{epoch_losses[-1]:.6f}}")""",
)
PROBE = Probe(
    "epochs",
    "_dlgrade_emit('seconds', list(epoch_seconds)); _dlgrade_emit('losses', list(epoch_losses))\n"
    "_dlgrade_emit('device', str(device))",
)


def run_once(path: Path, decoded: bool, train_limit: int | None) -> dict:
    config = SandboxConfig(decoded_datasets=decoded, train_limit=train_limit, test_limit=1000)
    run = run_notebook(SourceFile(path, "ipynb", "ok"), [PROBE], config)
    result = run.probe("epochs")
    if run.status != "ok" or result.error:
        raise RuntimeError(f"benchmark notebook failed: {result.error} {run.cells}")
    return result.values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each mode, interleaved")
    parser.add_argument("--threads", default="1", help="OMP_NUM_THREADS for the kernel")
    parser.add_argument("--train-limit", type=int, default=None, help="first N training images")
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = args.threads  # passed on to the sandboxed kernel
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "student", "p4.ipynb")
        path.parent.mkdir()
        cells = [c.format(epochs=args.epochs) if "{epochs}" in c else c for c in CELLS]
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nbformat.write(notebook, path)
        seconds: dict[bool, list[float]] = {True: [], False: []}
        for repeat in range(args.repeat):
            for decoded in (True, False):
                values = run_once(path, decoded, args.train_limit)
                seconds[decoded] += values["seconds"]
                label = "decoded" if decoded else "PIL    "
                print(
                    f"run {repeat + 1} {label} on {values['device']}: epochs "
                    + ", ".join(f"{s:.2f}" for s in values["seconds"])
                    + f" s; losses {', '.join(f'{x:.6f}' for x in values['losses'])}",
                    flush=True,
                )
    fast, slow = statistics.median(seconds[True]), statistics.median(seconds[False])
    print(f"\nmedian epoch: decoded {fast:.2f} s, torchvision PIL path {slow:.2f} s")
    print(f"speed-up {slow / fast:.2f}x (threads {args.threads}, load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
