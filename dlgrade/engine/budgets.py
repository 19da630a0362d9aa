"""Time limits for student notebooks, scaled to the machine that grades them.

The documented budgets hold on the reference machine: 2 CPU cores, the
grader's thread budget for one student. There a 60-epoch FashionMNIST loop
over a DataLoader (batch 64, ToTensor, the 784-256-128-64-10 MLP) takes
about 4-8 minutes, so a single cell may run 30 minutes and a notebook an hour
in full mode. A slower or busier machine gets proportionally more: a short
fixed workload is timed once and cached, and the budgets are multiplied by how
much slower it ran than on the reference machine (never less than 1, at most
MAX_FACTOR). Quick mode trains on 6000 images, so its budgets are smaller.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

# (per cell, per notebook) seconds on the reference machine, by quick mode.
BUDGETS_S = {False: (1800.0, 3600.0), True: (600.0, 1200.0)}
# The calibration workload's time on the reference machine (2 cores, 1 thread).
REFERENCE_WORKLOAD_S = 0.06
MAX_FACTOR = 8.0
CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Budgets:
    cell_s: float
    notebook_s: float
    factor: float


def budgets(quick: bool, cache_dir: Path | None = None) -> Budgets:
    """The per-cell and per-notebook limits for this machine (see the module doc)."""
    factor = machine_factor(cache_dir)
    cell, notebook = BUDGETS_S[quick]
    return Budgets(cell * factor, notebook * factor, factor)


def machine_factor(cache_dir: Path | None = None) -> float:
    """How much slower than the reference machine this one is (1.0 = as fast or faster)."""
    seconds = _cached_workload_time(cache_dir)
    return min(MAX_FACTOR, max(1.0, seconds / REFERENCE_WORKLOAD_S))


def workload_seconds() -> float:
    """Best of five runs of a small float32 MLP-like workload (matrix products)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 784), dtype=np.float32)
    w1 = rng.standard_normal((784, 256), dtype=np.float32)
    w2 = rng.standard_normal((256, 784), dtype=np.float32)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(60):
            x = np.tanh(np.tanh(x @ w1) @ w2)
        best = min(best, time.perf_counter() - start)
    return best


def _cached_workload_time(cache_dir: Path | None) -> float:
    """Timed once per machine and thread budget; the cache is only a speed-up."""
    key = f"{os.cpu_count()}-{os.environ.get('OMP_NUM_THREADS', 'default')}"
    path = (cache_dir or _default_cache()) / CALIBRATION_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(known.get(key), int | float) and known[key] > 0:
            return float(known[key])
    except (OSError, ValueError, AttributeError):
        known = {}
    seconds = workload_seconds()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({**known, key: seconds}), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only cache only costs the next run the same quarter second
    return seconds


def _default_cache() -> Path:
    from dlgrade.data import data_dir

    return data_dir()
