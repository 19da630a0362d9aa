"""The problem-4 reference and a student-style loop on the machine's best device (CUDA if any).

    python benchmarks/gpu.py [--device cuda] [--target 0.89] [--epochs 2]

* the reference MLP (`reference.fashion_mlp.train`, batch 128, resident
  tensors) trained until its test accuracy reaches `--target`: seconds per
  epoch and the time to the target;
* the student-style loop of benchmarks/p4_loader.py (DataLoader, batch 64,
  ToTensor, `.to(device)`), run in this process (no sandbox: that benchmark
  runs it in the sandbox) with torchvision's per-image path and with the
  shim's decoded batches, interleaved; the losses must agree to the last digit.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision

from dlgrade.data import load, provision
from dlgrade.engine.sandbox import SHIM_DIR
from reference import fashion_mlp

BENCHMARKS = Path(__file__).resolve().parent


def student_cells() -> tuple[str, ...]:
    """The notebook cells of benchmarks/p4_loader.py (one student loop for both benchmarks)."""
    spec = importlib.util.spec_from_file_location("p4_loader", BENCHMARKS / "p4_loader.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CELLS


def reference_to_target(device: str, target: float, max_epochs: int) -> None:
    fashion = load("fashion-mnist")
    fashion_mlp.train(fashion, epochs=1, device=device)  # warm-up: CUDA context, kernels
    start = time.perf_counter()
    result = fashion_mlp.train(fashion, epochs=max_epochs, device=device, target_accuracy=target)
    wall = time.perf_counter() - start
    for stats in result.history:
        print(
            f"  epoch {stats.epoch:2d}: {stats.seconds:6.2f} s training, test accuracy "
            f"{stats.test_acc:.4f}"
        )
    reached = result.history[-1].test_acc >= target
    print(
        f"reference on {result.device}: {'reached' if reached else 'did NOT reach'} "
        f"{target:.1%} after {len(result.history)} epochs, {wall:.2f} s wall "
        f"({sum(s.seconds for s in result.history):.2f} s training)"
    )


def student_loop(device: str, epochs: int, repeat: int, train_limit: int | None) -> None:
    sys.path.insert(0, str(SHIM_DIR))
    from _dlgrade_shim import decoded

    with tempfile.TemporaryDirectory() as root:
        provision(root, train_limit=train_limit)
        seconds: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(repeat):
            for fast in (True, False):
                if fast:
                    decoded.patch(torchvision.datasets.mnist)
                elif hasattr(torchvision.datasets.MNIST, "__getitems__"):
                    del torchvision.datasets.MNIST.__getitems__
                namespace: dict = {}
                for cell in student_cells():
                    code = cell.format(epochs=epochs) if "{epochs}" in cell else cell
                    code = code.replace('"./data"', repr(root)).replace(
                        'torch.device("cuda" if torch.cuda.is_available() else "cpu")', repr(device)
                    )
                    exec(compile(code, "<student>", "exec"), namespace)
                seconds[fast] += namespace["epoch_seconds"]
                label = "decoded" if fast else "PIL    "
                losses = ", ".join(f"{x:.6f}" for x in namespace["epoch_losses"])
                print(f"  {label} epochs {namespace['epoch_seconds']} losses {losses}", flush=True)
    fast, slow = statistics.median(seconds[True]), statistics.median(seconds[False])
    print(
        f"student loop on {device}: decoded {fast:.2f} s/epoch, PIL {slow:.2f} s/epoch, "
        f"speed-up {slow / fast:.2f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default)
    parser.add_argument("--target", type=float, default=0.89)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2, help="student-loop epochs per run")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--train-limit", type=int, default=None, help="student loop: first N images"
    )
    args = parser.parse_args(argv)
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU"
    print(
        f"device {args.device} ({name}); torch {torch.__version__}; threads {torch.get_num_threads()}"
    )
    reference_to_target(args.device, args.target, args.max_epochs)
    student_loop(args.device, args.epochs, args.repeat, args.train_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
