"""The probes each notebook problem runs in the student's kernel, with their inputs.

The code lives in `checks/kernel/` (it runs on the untrusted side); this module
pairs it with the numbers the grader chooses. Inputs are deterministic, so a
regrade asks the same questions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files

import numpy as np

from dlgrade.data import load
from dlgrade.engine import Probe, Watch
from dlgrade.engine.config import QUICK_TEST_LIMIT, QUICK_TRAIN_LIMIT
from reference import numpy_backprop

# Test-set images used as fixed P5 samples. The grader's init misclassifies all
# of them, which a loss taken against the prediction instead of the label needs
# to show up (see p5_samples).
P5_SAMPLE_COUNT = 3
P4_IMAGE_COUNT = 16
P4_FULL_SIZES = (60_000, 10_000)
P4_WATCH = "p4_training"


@cache
def kernel_code(name: str) -> str:
    return files("checks.kernel").joinpath(f"{name}.py").read_text(encoding="utf-8")


def p3_probes() -> list[Probe]:
    return []  # problem 3a reads the value history (p3_watches), not the final state


def p3_watches() -> list[Watch]:
    return [Watch("p3", kernel_code("p3_watch"), budget_bytes=4 << 20)]


def p4_probes() -> list[Probe]:
    images = load("fashion-mnist").x_test[:P4_IMAGE_COUNT].astype(np.float32) / 255.0
    # Dataset sizes a notebook may hold (quick slices and full sets): how the probe
    # recognises tensors of images among the globals.
    sizes = np.array(
        [QUICK_TRAIN_LIMIT, QUICK_TEST_LIMIT, P4_FULL_SIZES[0], P4_FULL_SIZES[1]], dtype=np.int64
    )
    return [
        Probe(
            "p4_model", kernel_code("p4_model"), {"images": images[:, None, :, :], "sizes": sizes}
        )
    ]


def p4_watches() -> list[Watch]:
    """Optimizer steps per first-layer weight and the inputs the first layer saw."""
    return [Watch(P4_WATCH, kernel_code("p4_watch"), budget_bytes=4 << 20)]


def p5_probes() -> list[Probe]:
    state = _state_inputs(numpy_backprop.init_params())
    samples, labels = p5_samples()
    scaled = samples.astype(np.float64) / 255.0
    # Raw and scaled forms of the same images: raw inputs saturate the first
    # layer (tiny gradients there), scaled ones exercise every layer.
    both = {"labels": np.concatenate([labels, labels])}
    with_state = dict(state)
    prelude = kernel_code("p5_state")
    return [
        Probe("p5_snapshot", kernel_code("p5_snapshot"), after=("weights", "biases")),
        Probe("p5_inventory", kernel_code("p5_inventory")),
        Probe(
            "p5_q2",
            prelude + kernel_code("p5_q2"),
            {**with_state, **both, "samples": np.concatenate([samples.astype(np.float64), scaled])},
        ),
        Probe(
            "p5_q3_raw",
            prelude + kernel_code("p5_q3"),
            {**with_state, "samples": samples, "labels": labels},
        ),
        Probe(
            "p5_q3_scaled",
            prelude + kernel_code("p5_q3"),
            {**with_state, "samples": scaled, "labels": labels},
        ),
        Probe("p5_q4", prelude + kernel_code("p5_q4"), with_state),
    ]


def p5_samples() -> tuple[np.ndarray, np.ndarray]:
    """The first test images the reference init misclassifies (uint8 28x28, labels)."""
    mnist = load("mnist")
    params = numpy_backprop.init_params()
    chosen = []
    for index in range(200):
        _, guess = numpy_backprop.feed_forward_sample(
            params, mnist.x_test[index], mnist.y_test[index]
        )
        if int(np.argmax(guess)) != int(mnist.y_test[index]):
            chosen.append(index)
        if len(chosen) == P5_SAMPLE_COUNT:
            break
    return mnist.x_test[chosen], mnist.y_test[chosen].astype(np.int64)


def _state_inputs(params: numpy_backprop.Params) -> dict[str, np.ndarray]:
    params = numpy_backprop.orient(params, "in_out")
    state = {f"w{i}": w for i, w in enumerate(params.weights)}
    state.update({f"b{i}": b for i, b in enumerate(params.biases)})
    return state


PROBES_BY_PROBLEM = {"p3": p3_probes, "p4": p4_probes, "p5": p5_probes}
# Watches (dlgrade.engine.Watch) each problem runs after every cell: its value history.
WATCHES_BY_PROBLEM: dict[str, Callable[[], list[Watch]]] = {"p3": p3_watches, "p4": p4_watches}
