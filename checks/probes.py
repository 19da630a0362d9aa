"""The probes each notebook problem runs in the student's kernel, with their inputs.

The code lives in `checks/kernel/` (it runs on the untrusted side); this module
pairs it with the numbers the grader chooses. Inputs are deterministic, so a
regrade asks the same questions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
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
P5_DATASET_SIZE = 40  # test images fed to feed_forward_dataset
P5_WATCH = "p5_weights"
P5_WATCH_BUDGET = 64 << 20  # a weight set is ~210 kB: room for ~300 snapshots
P4_IMAGE_COUNT = 16
P4_FULL_SIZES = (60_000, 10_000)
P4_WATCH = "p4_training"
LOADS_WATCH = "loads"  # loader calls (np.load, pickle, torch.load, load_state_dict) per cell


@cache
def kernel_code(name: str) -> str:
    return files("checks.kernel").joinpath(f"{name}.py").read_text(encoding="utf-8")


def p5_tools_code() -> str:
    """The problem-5 prelude: one code in five files by job; p5_tools composes the others."""
    parts = ("p5_layouts", "p5_chain", "p5_access", "p5_binding", "p5_tools")
    return "".join(kernel_code(name) for name in parts)


def p3_watches() -> list[Watch]:
    return [Watch("p3", kernel_code("p3_watch"), budget_bytes=4 << 20)]


def p4_probes() -> list[Probe]:
    images = load("fashion-mnist").x_test[:P4_IMAGE_COUNT].astype(np.float32) / 255.0
    # Dataset sizes a notebook may hold (quick slices and full sets): how the probe
    # recognises tensors of images among the globals.
    sizes = np.array(
        [QUICK_TRAIN_LIMIT, QUICK_TEST_LIMIT, P4_FULL_SIZES[0], P4_FULL_SIZES[1]], dtype=np.int64
    )
    # One probe in three files by job; p4_model's last line runs it, so it comes last.
    code = kernel_code("p4_datasets") + kernel_code("p4_series") + kernel_code("p4_model")
    return [Probe("p4_model", code, {"images": images[:, None, :, :], "sizes": sizes})]


def p4_watches() -> list[Watch]:
    """Optimizer steps per first-layer weight and the inputs the first layer saw."""
    return [Watch(P4_WATCH, kernel_code("p4_watch"), budget_bytes=4 << 20), loads_watch()]


def p5_probes(retrain: bool = False) -> list[Probe]:
    """Q2-Q4 call the student's functions on the grader's parameters (see checks/kernel/p5_*).

    `retrain`: Q4 trains again from the grader's start even when the notebook's
    own training ran to the end (the TA's --retrain).
    """
    state = _state_inputs(numpy_backprop.init_params())
    samples, labels = p5_samples()
    scaled = samples.astype(np.float64) / 255.0
    dataset_x, dataset_y = p5_dataset()
    networks = p5_dataset_networks()
    # Raw and scaled forms of the same images: raw inputs saturate the first
    # layer (tiny gradients there), scaled ones exercise every layer.
    prelude = p5_tools_code() + kernel_code("p5_state")
    q2_inputs = {
        **state,
        "samples": np.concatenate([samples.astype(np.float64), scaled]),
        "labels": np.concatenate([labels, labels]),
        "dataset_x": dataset_x,
        "dataset_y": dataset_y,
        **_state_inputs(networks["raw"], "dr_"),
        **_state_inputs(networks["scaled"], "ds_"),
    }
    return [
        Probe("p5_inventory", kernel_code("p5_inventory")),
        Probe("p5_q2", prelude + kernel_code("p5_q2"), q2_inputs),
        Probe(
            "p5_q3_raw",
            prelude + kernel_code("p5_q3"),
            {**state, "samples": samples, "labels": labels},
        ),
        Probe(
            "p5_q3_scaled",
            prelude + kernel_code("p5_q3"),
            {**state, "samples": scaled, "labels": labels},
        ),
        Probe(
            "p5_q4",
            prelude + kernel_code("p5_q4"),
            {**state, "retrain": np.array(retrain)},
        ),
    ]


def p5_watches() -> list[Watch]:
    """The weights right after initialisation, their changes, and the notebook's own epochs."""
    code = p5_tools_code() + kernel_code("p5_watch")
    return [Watch(P5_WATCH, code, budget_bytes=P5_WATCH_BUDGET), loads_watch()]


def loads_watch() -> Watch:
    """Shared by problems 4 and 5 (a notebook holding both runs it once)."""
    return Watch(LOADS_WATCH, kernel_code("loads_watch"), budget_bytes=1 << 20)


def p5_dataset() -> tuple[np.ndarray, np.ndarray]:
    """The fixed set feed_forward_dataset is called on: the first test images, as uint8."""
    mnist = load("mnist")
    return mnist.x_test[:P5_DATASET_SIZE], mnist.y_test[:P5_DATASET_SIZE].astype(np.int64)


@cache
def p5_dataset_networks() -> dict[str, numpy_backprop.Params]:
    """The network feed_forward_dataset runs, for raw pixels and for pixels / 255.

    A random network guesses nearly one class for every image, which hides
    accuracy bugs (an argmax over the whole array scores the same), so this
    one is trained: one epoch at rate 0.1 on 2000 scaled training images gets
    30 of the 40 images right. For raw pixels its first layer is divided by 255: the same
    pre-activations, so either kind of student function sees a good network.
    """
    mnist = load("mnist")
    scaled = numpy_backprop.train_epoch(
        numpy_backprop.init_params(), mnist.x_train[:2000], mnist.y_train[:2000], 0.1, True
    )
    raw = numpy_backprop.Params(
        (scaled.weights[0] / 255.0, *scaled.weights[1:]), scaled.biases, scaled.orientation
    )
    return {"raw": raw, "scaled": scaled}


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


def _state_inputs(params: numpy_backprop.Params, prefix: str = "") -> dict[str, np.ndarray]:
    params = numpy_backprop.orient(params, "in_out")
    state = {f"{prefix}w{i}": w for i, w in enumerate(params.weights)}
    state.update({f"{prefix}b{i}": b for i, b in enumerate(params.biases)})
    return state


def probes_by_problem(retrain: bool = False) -> dict[str, Callable[[], list[Probe]]]:
    """Each problem's probes, with the run's options bound (see the --retrain option).

    Problem 3 has none: it reads the value history (p3_watches), not the final state;
    the runners give a problem missing here no probes."""
    return {"p4": p4_probes, "p5": partial(p5_probes, retrain=retrain)}


PROBES_BY_PROBLEM = probes_by_problem()
# Watches (dlgrade.engine.Watch) each problem runs after every cell: its value history.
WATCHES_BY_PROBLEM: dict[str, Callable[[], list[Watch]]] = {
    "p3": p3_watches,
    "p4": p4_watches,
    "p5": p5_watches,
}
