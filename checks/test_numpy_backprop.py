"""Problem 5 (both editions): numpy backprop on MNIST, judged against `reference.numpy_backprop`.

The weights are found by shapes, not names (checks/kernel/p5_tools.py): the
starter's `weights`/`biases` lists, other names, a dict (`W1..W3`,
`b1..b3`), in either orientation. Q1 judges them right after the notebook
initialised them (the `p5_weights` watch keeps the first complete set),
including whether they come from `default_rng(80085)`. Q2 and Q3 put the
grader's fixed parameters where the notebook keeps its weights, call the
student's own functions on fixed samples (Q2 also `feed_forward_dataset` on
a fixed set) and compare with the reference, under the input scale each
function uses. Q4 measures test accuracy on the weights the notebook's own
training reached (kept after each `train_one_epoch` call); the grader trains
again from its start only when the notebook never trained, its training did
not finish, or the TA asks (--retrain). Raw-input training is chaotic
(correct code lands anywhere in about 0.52-0.72 after 3 epochs), so Q4 is
only a sanity gate and the gradient check (Q3) carries the points.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from checks import weights_source
from checks.notebook_runs import require_probe
from checks.offline import unless_offline
from checks.p5_forward import Q2_RTOL, dataset_problems, forward_diagnosis, forward_results
from checks.p5_interface import explained, interface, no_weights
from checks.p5_judging import (
    infer_scale,
    init_statistics,
    seed_layout,
    unseeded,
    update_error,
    update_rtol,
)
from checks.p5_trained import held_transform, q4_concerns, train_reference_curve, trained_weights
from checks.p5_training import TrainingStart, precision, training_start
from checks.p5_update import q3_message
from checks.p5_values import LAYERS, Holder, WeightHistory, params_from, weight_history
from checks.probes import P5_WATCH, p5_samples
from checks.scoring import CheckFailed, prerequisite_failed
from dlgrade.data import load
from dlgrade.data.derived import cached_value
from dlgrade.engine import NotebookRun
from reference import numpy_backprop as ref

Q4_GATE = {False: 0.5, True: 0.3}  # final test accuracy, by quick mode


@pytest.fixture(scope="session")
def p5(notebooks) -> NotebookRun:
    problem = notebooks.get("p5")
    if problem.run is None:
        prerequisite_failed(problem.reason, problem.status)
    return problem.run


@pytest.fixture(scope="session")
def history(p5: NotebookRun) -> WeightHistory:
    """The weights after initialisation and after each epoch of the notebook's own training."""
    return weight_history(p5.kept(P5_WATCH))


@pytest.fixture(scope="session")
def start(p5: NotebookRun) -> TrainingStart | None:
    """The weights the notebook's first training call received (None: it never trained)."""
    return training_start(p5.kept(P5_WATCH))


@pytest.fixture(scope="session")
def computes_in(p5: NotebookRun) -> str:
    """The narrowest float type of the notebook's weights and training samples."""
    return precision(p5.kept(P5_WATCH)).lowest


def add_note(record, note: str) -> None:
    if note:
        record.add("note", note)


# --- Q1: initialisation -------------------------------------------------------


@pytest.mark.part("5-q1")
def test_q1_initialisation(p5, history, start, part, record):
    # The network as the training received it; the first complete set when it never trained.
    init, holder = (start.snapshot, start.holder) if start else (history.init, history.holder)
    if init is None:
        # Weights never seen: a kernel that stopped before defining them says so first.
        require_probe(p5, p5.probe("p5_inventory"), "global lists `weights` and `biases`")
        raise CheckFailed(no_weights(p5))
    assert holder is not None  # kept together with init by the watch
    notes = [holder.note()]
    problems, stds = [], []
    for layer, (n_in, n_out) in enumerate(LAYERS):
        problems += init_statistics(layer, init.params.weights[layer], max(n_in, n_out), stds)
        b = init.params.biases[layer]
        if np.any(b != 0):
            problems.append(
                f"biases[{layer}] should start at zero; found max |b| = {np.abs(b).max():.3g}"
            )
    layouts = seed_layout(init.params.weights)
    seeding = (
        f"seeded as asked: the draws reproduce default_rng({ref.SEED}), layer by layer "
        f"(drawn as {', '.join(layouts)})"
        if layouts
        else f"right distribution, not the asked stream: the weights were not drawn from one "
        f"rng = default_rng({ref.SEED}), layer by layer, as the starter asks"
    )
    when = (
        f"as the training received them (cell {init.cell + 1}"
        if start
        else f"as initialised (after cell {init.cell + 1}"
    )
    record.add(
        "found",
        f"weights {when}, in {holder.where}): "
        + ", ".join(stds)
        + ("; " + seeding if layouts else ""),
    )
    add_note(record, "; ".join(n for n in notes if n))
    if problems:
        raise CheckFailed("; ".join(problems))
    if not layouts:
        notes.append(unseeded(part.setting("unseeded_credit", 1.0), seeding))
        add_note(record, "; ".join(n for n in notes if n))


# --- Q2: forward pass ---------------------------------------------------------


@pytest.mark.part("5-q2")
def test_q2_forward_pass(p5, record):
    values, holder = interface(p5, "p5_q2", "feed_forward_sample(sample, y)")
    add_note(record, holder.note())
    samples, labels = p5_samples()
    cases = [(s, int(y), "raw") for s, y in zip(samples, labels, strict=True)]
    cases += [(s / 255.0, int(y), "scaled") for s, y in zip(samples, labels, strict=True)]
    losses, guesses = forward_results(p5, values, cases)
    params = ref.init_params()

    def loss_error(factor: float) -> float:
        expected = [ref.feed_forward_sample(params, s * factor, y)[0] for s, y, _ in cases]
        return float(np.max(np.abs(np.array(losses) - expected) / np.abs(expected)))

    factor, error = infer_scale(loss_error)
    notes = [holder.note()]
    if factor != 1 and error <= Q2_RTOL:
        notes.append("your feed_forward_sample divides its input by 255 itself")
    add_note(record, "; ".join(n for n in notes if n))
    record.add("expected", "loss and one-hot guess of the reference on 6 fixed samples")
    problems = []
    for k, (sample, label, kind) in enumerate(cases):
        loss, guess = ref.feed_forward_sample(params, sample * factor, label)
        where = f"{kind} test sample {k % len(samples)} (label {label})"
        if not np.isclose(losses[k], loss, rtol=Q2_RTOL, atol=1e-9):
            problems.append(f"loss on {where}: expected {loss:.6g}, found {losses[k]:.6g}")
        if not np.array_equal(guesses[k], guess):
            problems.append(
                f"guess on {where}: expected one-hot of class {int(np.argmax(guess))}, "
                f"found {np.round(guesses[k], 3).tolist()}"
            )
    if problems:
        # Naming the mistake runs the reference on the student's values: not on their machine.
        diagnosis = unless_offline(lambda: forward_diagnosis(losses, cases, params, factor), "")
        raise CheckFailed(f"feed_forward_sample{diagnosis}: " + "; ".join(problems[:4]))
    dataset = dataset_problems(p5, values, factor)
    if dataset:  # Q2 asks for both functions
        raise CheckFailed(f"feed_forward_sample is right, but {dataset}")


# --- Q3: one SGD step ----------------------------------------------------------


@pytest.fixture(scope="session")
def q3_updates(p5: NotebookRun) -> tuple[list, Holder]:
    """Per probe (raw, scaled) and sample: (x as sent, label, params after train_one_sample)."""
    results = []
    holder = None
    samples, labels = p5_samples()
    for probe, kind in (("p5_q3_raw", "raw"), ("p5_q3_scaled", "scaled")):
        values, holder = interface(p5, probe, "train_one_sample(sample, y, learning_rate)")
        for k, (sample, label) in enumerate(zip(samples, labels, strict=True)):
            where = f"{kind} test sample {k} (label {label})"
            errors = values.get(f"s{k}_errors")
            if errors:
                errors = errors if isinstance(errors, list) else [errors]
                shapes = " then, with a flat 784 sample, ".join(explained(p5, e) for e in errors)
                raise CheckFailed(f"train_one_sample raised {shapes} on {where}")
            found = params_from(
                values, f"s{k}_", holder.orientation, f"after train_one_sample on {where}"
            )
            x = sample / 255.0 if kind == "scaled" else sample.astype(float)
            results.append((x, int(label), found, where))
    assert holder is not None
    return results, holder


@pytest.fixture(scope="session")
def train_scale(q3_updates, computes_in) -> tuple[float, float]:
    """(factor, error): the input scale train_one_sample applies itself, from the raw samples."""
    results, holder = q3_updates
    start = ref.orient(ref.init_params(), holder.orientation)
    raw = [r for r in results if r[3].startswith("raw")]

    def error_at(factor: float) -> float:
        return max(
            update_error(start, f, ref.step(start, x * factor, y)[0], computes_in)
            for x, y, f, _ in raw
        )

    return infer_scale(error_at)


@pytest.mark.part("5-q3")
def test_q3_train_one_sample(q3_updates, train_scale, computes_in, record):
    results, holder = q3_updates
    factor, error = train_scale
    # The update must match the reference to the rounding of the float type the student uses.
    rtol = update_rtol(computes_in)
    if error > rtol:  # right under neither scale: name the mistake under raw inputs
        factor = 1.0
    start = ref.orient(ref.init_params(), holder.orientation)
    notes = [holder.note()]
    if factor != 1:
        notes.append("your train_one_sample divides its input by 255 itself")
    if computes_in != "float64":
        notes.append(f"your network computes in {computes_in}: judged to {rtol:g} relative")
    add_note(record, "; ".join(n for n in notes if n))
    worst = 0.0
    for x, label, found, where in results:
        expected, _ = ref.step(start, x * factor, label)
        error = update_error(start, found, expected, computes_in)
        worst = max(worst, error)
        if error > rtol:
            # Naming the mistake runs the reference on the student's update: the grader's only.
            named = partial(q3_message, start, found, x, label, where, factor)
            plain = (
                f"the update on {where} differs from correct backprop (relative error {error:.2g})"
            )
            raise CheckFailed(unless_offline(named, plain))
    record.add("found", f"largest relative difference from the reference update: {worst:.2e}")


# --- Q4: the student's training loop ----------------------------------------------


@pytest.fixture(scope="session")
def reference_curve(quick: bool, q4_scale) -> list[float]:
    """The reference's test accuracy after each of 3 epochs, with the student's kind of
    inputs (raw, or scaled to [0, 1]). The same for every student: trained once per data,
    code and mode, then read from disk."""
    scaled = q4_scale[0][0] != 1.0
    return cached_value(
        "p5-reference-curve",
        lambda: train_reference_curve(quick, scaled),
        datasets=("mnist",),
        code=(ref,),
        quick=quick,
        scaled=scaled,
    )


@pytest.mark.part("5-q4")
def test_q4_training_reaches_accuracy(
    p5, history, q4_scale, quick, reference_curve, grader, part, record
):
    values, holder = interface(p5, "p5_q4", "train_one_epoch()")
    factor, scale_note = q4_scale
    epochs, how = trained_weights(p5, values, history, holder)
    record.add("found", how)
    concern = weights_source.report(
        q4_concerns(p5, values, history), p5.source.path.name, grader.observe, record
    )
    mnist = load("mnist")
    accuracies = [
        round(ref.evaluate(p, mnist.x_test, mnist.y_test, affine=factor)[1], 4) for p in epochs
    ]
    record.add(
        "plot",
        {
            "title": "Test accuracy after each epoch (measured by the grader)",
            "xlabel": "epoch",
            "ylabel": "test accuracy",
            "series": {"student": accuracies, "reference": reference_curve},
        },
    )
    gate = Q4_GATE[quick]
    add_note(
        record,
        "; ".join(
            n
            for n in (
                scale_note,
                (
                    "raw 0-255 inputs make this training chaotic (correct code ends anywhere in "
                    "about 0.52-0.72), so "
                    if factor == (1.0, 0.0)
                    else ""
                )
                + f"this is a sanity gate at {gate:.0%}; the gradient check (Q3) carries the points",
            )
            if n
        ),
    )
    if not accuracies[-1] >= gate:
        raise CheckFailed(
            f"after {len(accuracies)} epochs of your train_one_epoch ({how}) the test accuracy is "
            f"{accuracies[-1]:.1%} (per epoch: {', '.join(f'{a:.1%}' for a in accuracies)}); "
            f"expected at least {gate:.0%}" + (f"; {concern}" if concern else "")
        )
    weights_source.apply_credit(concern, part.setting(weights_source.CREDIT_SETTING, 1.0))


@pytest.fixture(scope="session")
def q4_scale(p5: NotebookRun, request: pytest.FixtureRequest) -> tuple[tuple[float, float], str]:
    """((a, b), note): a raw test pixel p reaches the student's network as a * p + b.

    The notebook's own transform of its inputs (x / 255, a standardisation),
    read from the first sample its training received, else from the arrays
    shaped like MNIST images it holds under any name; each row is matched to
    its MNIST image by content, so shuffled or renamed data is read too. Times
    the scale train_one_sample applies itself when Q3 could tell it (1 otherwise).
    """
    transform, held = held_transform(p5)
    try:
        internal, error = request.getfixturevalue("train_scale")
    except CheckFailed:  # Q3 reports it; training is then judged as the notebook holds inputs
        internal, error = 1.0, 0.0
    internal = internal if error < 1e-3 else 1.0
    a, b = transform or (1.0, 0.0)
    a, b = a * internal, b * internal
    if transform is None and held:
        return (
            a,
            b,
        ), "the notebook's inputs are not a scaled copy of the MNIST pixels; judged on raw pixels"
    if (a, b) == (1.0, 0.0):
        return (a, b), ""
    scale = "divided by 255" if np.isclose(a, 1 / 255, rtol=1e-9) else f"times {a:.4g}"
    shift = f", plus {b:.3g}" if b else ""
    return (a, b), f"judged with the inputs your training used: pixels {scale}{shift}"
