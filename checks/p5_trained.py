"""Problem 5, Q4: the weights each epoch reached, the concerns about them, the input scale.

`trained_weights` reads the notebook's own epochs (or the grader's re-training),
`q4_concerns` what makes them doubtful (weights loaded from a file, another epoch
count), `held_transform` how the notebook scaled its inputs, matched to MNIST by
content, and `train_reference_curve` the reference's accuracy per epoch.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from checks import weights_source
from checks.p5_interface import explained
from checks.p5_judging import matched_transform, row_index
from checks.p5_training import first_sample
from checks.p5_values import LAYERS, GraderError, Holder, WeightHistory, array, params_from
from checks.probes import P5_WATCH
from checks.scoring import CheckFailed
from dlgrade.data import load
from dlgrade.engine import NotebookRun
from reference import numpy_backprop as ref


def train_reference_curve(quick: bool, scaled: bool) -> list[float]:
    mnist = load("mnist")
    limit = 6000 if quick else None
    history = ref.train(
        mnist.x_train[:limit], mnist.y_train[:limit], mnist.x_test, mnist.y_test, scale=scaled
    )
    return [round(r.test_acc, 4) for r in history[1:]]


def q4_concerns(
    run: NotebookRun, values: dict, history: WeightHistory
) -> list[weights_source.Concern | None]:
    """Weights loaded from a file before the last epoch the grader judges (or while the
    grader ran train_one_epoch), and an epoch count other than asked by the notebook."""
    shapes = [(n_in, n_out) for n_in, n_out in LAYERS]
    if values.get("decision") == "retrain":
        # The notebook's own saves count (a file it wrote holds its training); only what
        # train_one_epoch loaded while the grader ran it made the weights judged.
        probed = weights_source.probed_loads(values, (f"loads{e}" for e in range(3)))
        found = weights_source.weight_loads(weights_source.read_loads(run) + probed, shapes, None)
        loads = [load for load in found if load.cell == weights_source.PROBE_CELL]
        return [weights_source.loaded_concern(run, loads, "the weights train_one_epoch left")]
    epochs = history.epochs
    if values.get("decision") != "notebook" or not epochs:
        return []
    loads = weights_source.weight_loads(
        weights_source.read_loads(run), shapes, max(s.cell for s in epochs)
    )
    return [
        weights_source.loaded_concern(run, loads, "the trained weights"),
        weights_source.epochs_concern(len(epochs)),
    ]


def trained_weights(
    run: NotebookRun, values: dict, history: WeightHistory, holder: Holder
) -> tuple[list[ref.Params], str]:
    """The weights after each epoch, and which training produced them."""
    decision = values.get("decision")
    if decision == "notebook":
        broken = [message for event, message in history.unreadable if event == "epoch"]
        if broken:
            raise CheckFailed(f"the notebook's own training could not be judged: {broken[0]}")
        epochs = history.epochs
        if not epochs:
            raise GraderError(
                "the notebook trained, but the grader kept none of its epochs (please report)"
            )
        cells = sorted({s.cell + 1 for s in epochs})
        how = (
            f"the notebook's own training: {len(epochs)} epoch{'s' * (len(epochs) > 1)} in cell "
            + ", ".join(map(str, cells))
        )
        return [finite(s.params) for s in epochs], how
    if decision != "retrain":
        raise GraderError(f"probe 'p5_q4' made no decision: {decision!r}")
    reason = str(values.get("reason", ""))[:300]
    error = values.get("error")
    if error:
        raise CheckFailed(
            f"train_one_epoch() failed when the grader trained again, because {reason}: "
            f"{explained(run, error)}"
        )
    epochs = [
        finite(params_from(values, f"e{e}_", holder.orientation, f"after epoch {e + 1}", False))
        for e in range(3)
    ]
    return epochs, f"re-trained by the grader from its own start, because {reason}"


def finite(params: ref.Params) -> ref.Params:
    # A diverged run is judged by its accuracy, not refused: NaN weights predict nothing.
    return ref.Params(
        tuple(np.nan_to_num(w) for w in params.weights),
        tuple(np.nan_to_num(b) for b in params.biases),
        params.orientation,
    )


def held_transform(run: NotebookRun) -> tuple[tuple[float, float] | None, bool]:
    """(the notebook's input transform or None, whether it holds image-shaped inputs at all)."""
    raw, index = mnist_rows()
    sample = first_sample(run.kept(P5_WATCH))
    if sample is not None:
        transform = matched_transform(sample[None], raw, index)
        if transform is not None:
            return transform, True
    values = run.probe("p5_q4").values
    names = values.get("inputs") if isinstance(values.get("inputs"), list) else []
    found = []
    for i, name in enumerate(names):
        held = array(values, f"input{i}_head", f"{name}[:8]", "as the notebook holds it")
        transform = matched_transform(held, raw, index)
        if transform is not None:
            found.append((transform == (1.0, 0.0), "train" not in str(name).lower(), transform))
    # A scaled copy beside the raw pixels is the one made to train on; training sets first.
    best = min(found, key=lambda f: f[:2], default=None)
    return (best[2] if best else None), sample is not None or bool(names)


@cache
def mnist_rows() -> tuple[np.ndarray, dict[bytes, int]]:
    """Every MNIST image (train, then test) as 784 raw pixels, and their content index."""
    mnist = load("mnist")
    raw = np.concatenate([mnist.x_train.reshape(-1, 784), mnist.x_test.reshape(-1, 784)])
    return raw, row_index(raw)
