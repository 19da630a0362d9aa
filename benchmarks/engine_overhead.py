"""Per-notebook overhead of the sandboxed engine against bare nbclient execution.

    .venv/bin/python benchmarks/engine_overhead.py [--repeat 5]

Runs the same small notebook with `NotebookClient(...).execute()` on a local
kernel and with `run_notebook` under bubblewrap, in the unprivileged-user mode (as
root) and without isolation (`none`),
interleaved, and prints the median wall time of each and the overhead.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from dlgrade.engine import Probe, SandboxConfig, isolation, run_notebook
from dlgrade.engine.records import SourceFile
from dlgrade.engine.sandbox import bwrap_usable

CELLS = (
    "import numpy as np\nimport matplotlib.pyplot as plt",
    "x = np.linspace(0, 1, 100)\ny = x ** 2",
    "plt.plot(x, y)\nplt.show()",
    "print(y.sum())",
)


def bare(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=60,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()


def engine(path: Path, isolation: str) -> None:
    config = SandboxConfig(isolation=isolation)  # type: ignore[arg-type]
    run = run_notebook(
        SourceFile(path, "ipynb", "ok"), [Probe("y", "_dlgrade_emit('y', y)")], config
    )
    if run.status != "ok":
        raise RuntimeError(f"benchmark notebook failed under {isolation}: {run.cells}")


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "student", "small.ipynb")
        path.parent.mkdir()
        nbformat.write(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS]), path
        )
        modes: dict[str, Callable[[], None]] = {"bare nbclient": lambda: bare(path)}
        if bwrap_usable():
            modes["engine bwrap"] = lambda: engine(path, "bwrap")
        if isolation.user_problem() is None:  # root, with an interpreter every uid can run
            modes["engine user"] = lambda: engine(path, "user")
        modes["engine none"] = lambda: engine(path, "none")
        for action in modes.values():
            action()  # warm-up: data provisioning cache, OS file cache
        times: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.repeat):
            for name, action in modes.items():
                times[name].append(timed(action))
    base = statistics.median(times["bare nbclient"])
    print(f"{'mode':<16}{'median s':>10}{'min s':>8}{'max s':>8}{'overhead s':>12}{'ratio':>7}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:<16}{median:>10.2f}{min(samples):>8.2f}{max(samples):>8.2f}{median - base:>12.2f}{median / base:>7.2f}"
        )


if __name__ == "__main__":
    main()
