"""The reference's test accuracy after each of 3 epochs, for Q4's plot: computed once per
machine and mode, then read from the data cache.

Training the reference is as long as a student's own training (3 epochs on the
whole training set in full mode), and its result does not depend on the
student, so grading a class must not pay for it per student. Raw-input
training is chaotic (a different BLAS moves the numbers), so the cache lives
with the machine's data, like the engine's calibration.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dlgrade.data import data_dir, load
from dlgrade.engine.config import QUICK_TRAIN_LIMIT
from reference import numpy_backprop as ref

CACHE_FILE = "p5-reference-curve.json"


def reference_curve(quick: bool, cache_dir: Path | None = None) -> list[float]:
    """Test accuracy (4 decimals) after epochs 1-3 of the reference on raw inputs."""
    key = f"{'quick' if quick else 'full'}-seed{ref.SEED}-lr{ref.LEARNING_RATE}"
    path = (cache_dir or data_dir()) / CACHE_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        curve = known.get(key)
        if isinstance(curve, list) and len(curve) == 3:
            return [float(a) for a in curve]
    except (OSError, ValueError, AttributeError):
        known = {}
    curve = _train(quick)
    try:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({**known, key: curve}), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only cache: the next run trains again
    return curve


def _train(quick: bool) -> list[float]:
    mnist = load("mnist")
    limit = QUICK_TRAIN_LIMIT if quick else None
    history = ref.train(mnist.x_train[:limit], mnist.y_train[:limit], mnist.x_test, mnist.y_test)
    return [round(r.test_acc, 4) for r in history[1:]]
