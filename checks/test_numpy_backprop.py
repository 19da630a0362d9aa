"""Problem 5 (both editions): numpy backprop on MNIST, judged against `reference.numpy_backprop`.

Q1 reads `weights`/`biases` right after the cell that defines them. Q2 and Q3
put the grader's fixed parameters into the student's globals and call the
student's own functions on fixed samples; the grader compares the results
with the reference. Q4 runs the student's `train_one_epoch` three times from
the grader's start and measures test accuracy itself. Raw-input training is
chaotic (correct code lands anywhere in about 0.52-0.72 after 3 epochs), so
Q4 is only a sanity gate and the gradient check (Q3) carries the points.
"""

from __future__ import annotations

import numpy as np
import pytest

from checks.notebook_runs import require_probe
from checks.p5_variants import BUGS, buggy_step
from checks.probes import p5_samples
from checks.scoring import CheckFailed, prerequisite_failed
from dlgrade.data import load
from dlgrade.data.derived import cached_value
from dlgrade.engine import NotebookRun
from reference import numpy_backprop as ref

SIZES = list(zip(ref.SIZES[:-1], ref.SIZES[1:], strict=True))
Q3_RTOL = 1e-8  # the update must match the reference to this relative precision
Q4_GATE = {False: 0.5, True: 0.3}  # final test accuracy, by quick mode


@pytest.fixture(scope="session")
def p5(notebooks) -> NotebookRun:
    problem = notebooks.get("p5")
    if problem.run is None:
        prerequisite_failed(problem.reason, problem.status)
    return problem.run


@pytest.fixture(scope="session")
def orientation(p5: NotebookRun) -> str:
    """How the student stores weights, read from the initial snapshot."""
    values = p5.probe("p5_snapshot").values
    first = np.shape(values.get("weights_0"))
    if first == SIZES[0][::-1]:
        return "out_in"
    return "in_out"


@pytest.fixture(scope="session")
def internal_scale(p5: NotebookRun) -> float:
    """The factor the student's own functions apply to a sample (1, or 1/255 for scaling inside).

    Scaling inputs to [0, 1] is allowed; a student who does it inside
    feed_forward_sample/train_one_sample matches the reference on x / 255.
    Read from Q2's raw samples; 1 when they match neither.
    """
    losses = p5.probe("p5_q2").values.get("losses")
    if losses is None:
        return 1.0
    params = ref.init_params()
    samples, labels = p5_samples()
    found = np.asarray(losses, dtype=float)[: len(samples)]
    for factor in (1.0, 1 / 255):
        expected = [
            ref.feed_forward_sample(params, x * factor, int(y))[0]
            for x, y in zip(samples, labels, strict=True)
        ]
        if np.allclose(found, expected, rtol=1e-6):
            return factor
    return 1.0


def interface_problem(run: NotebookRun, needed: str) -> str:
    """'interface not found: …' naming what the notebook does define."""
    inventory = run.probe("p5_inventory").values.get("inventory", {})
    found = []
    if isinstance(inventory, dict):
        for kind in ("containers", "arrays", "classes", "functions"):
            items = inventory.get(kind, [])
            if isinstance(items, list) and items:
                found.append(f"{kind}: " + ", ".join(str(i) for i in items[:12]))
    listing = "; ".join(found) or "nothing usable"
    return (
        f"interface not found: the notebook must define {needed} as in the starter; found {listing}"
    )


def probe_values(run: NotebookRun, name: str, needed: str) -> dict:
    result = run.probe(name)
    if result.error:
        require_probe(run, result, needed)
        if "NameError" in result.error or "KeyError" in result.error or "never" in result.error:
            raise CheckFailed(f"{interface_problem(run, needed)} ({result.error})")
        raise CheckFailed(f"calling {needed} failed: {result.error}")
    return result.values


# --- Q1: initialisation -------------------------------------------------------


@pytest.mark.part("5-q1")
def test_q1_initialisation(p5, orientation, record):
    values = probe_values(p5, "p5_snapshot", "global lists `weights` and `biases`")
    if values.get("weights_type") not in ("list", "tuple"):
        raise CheckFailed(interface_problem(p5, "global lists `weights` and `biases`"))
    problems = []
    stds = []
    for layer, (n_in, n_out) in enumerate(SIZES):
        w, b = values.get(f"weights_{layer}"), values.get(f"biases_{layer}")
        if w is None or b is None:
            raise CheckFailed(f"weights[{layer}] or biases[{layer}] is missing: expected 3 layers")
        expected_shapes = {(n_in, n_out), (n_out, n_in)}
        if w.shape not in expected_shapes:
            problems.append(
                f"weights[{layer}] has shape {w.shape}; expected {n_in}x{n_out} (or {n_out}x{n_in})"
            )
            continue
        problems += _init_statistics(layer, w, max(n_in, n_out), stds)
        if b.size != n_out:
            problems.append(f"biases[{layer}] has {b.size} entries; expected {n_out}")
        elif np.any(b != 0):
            problems.append(
                f"biases[{layer}] should start at zero; found max |b| = {np.abs(b).max():.3g}"
            )
    record.add("found", ", ".join(stds))
    if problems:
        raise CheckFailed("; ".join(problems))


def _init_statistics(layer: int, w: np.ndarray, fan: int, stds: list[str]) -> list[str]:
    """Std within a statistical band of 1/sqrt(fan), mean near 0 (5 standard errors)."""
    expected = 1 / np.sqrt(fan)
    found = float(w.std())
    stds.append(f"std(weights[{layer}]) = {found:.4f}")
    band = 5 / np.sqrt(2 * w.size) + 0.01  # relative standard error of a sample std
    problems = []
    if abs(found / expected - 1) > band:
        problems.append(
            f"weights[{layer}] has standard deviation {found:.4g}; expected "
            f"1/sqrt(max(n_in, n_out)) = 1/sqrt({fan}) = {expected:.4g} (within {band:.0%})"
        )
    if abs(float(w.mean())) > 5 * expected / np.sqrt(w.size):
        problems.append(f"weights[{layer}] has mean {w.mean():.3g}; expected about 0")
    return problems


# --- Q2: forward pass ---------------------------------------------------------


@pytest.mark.part("5-q2")
def test_q2_feed_forward_sample(p5, internal_scale, record):
    values = probe_values(p5, "p5_q2", "feed_forward_sample(sample, y)")
    errors = values.get("errors") or []
    if errors:
        raise CheckFailed(f"feed_forward_sample raised: {errors[0]}")
    params = ref.init_params()
    samples, labels = p5_samples()
    cases = [(s, int(y), False) for s, y in zip(samples, labels, strict=True)]
    cases += [(s / 255.0, int(y), True) for s, y in zip(samples, labels, strict=True)]
    losses = np.asarray(values.get("losses"), dtype=float)
    guesses = values.get("guesses")
    if guesses is None or losses.shape != (len(cases),):
        raise CheckFailed(
            "feed_forward_sample must return (loss, one_hot_guess) with a length-10 one-hot; "
            f"found guess shapes {values.get('guess_shapes')}"
        )
    problems = []
    for k, (sample, label, scaled) in enumerate(cases):
        loss, guess = ref.feed_forward_sample(params, sample * internal_scale, label)
        where = f"{'scaled' if scaled else 'raw'} test sample {k % len(samples)} (label {label})"
        if not np.isclose(losses[k], loss, rtol=1e-6, atol=1e-9):
            problems.append(f"loss on {where}: expected {loss:.6g}, found {losses[k]:.6g}")
        if not np.array_equal(np.asarray(guesses[k]), guess):
            problems.append(
                f"guess on {where}: expected one-hot of class {int(np.argmax(guess))}, "
                f"found {np.round(guesses[k], 3).tolist()}"
            )
    record.add("expected", "loss and one-hot guess of the reference on 6 fixed samples")
    if internal_scale != 1:
        record.add(
            "note", "your functions scale inputs themselves; compared with the reference on x / 255"
        )
    if problems:
        raise CheckFailed("; ".join(problems[:4]))


# --- Q3: one SGD step ----------------------------------------------------------


@pytest.mark.part("5-q3")
def test_q3_train_one_sample(p5, orientation, internal_scale, record):
    start = ref.orient(ref.init_params(), orientation)
    samples, labels = p5_samples()
    worst = 0.0
    for probe, scale in (("p5_q3_raw", False), ("p5_q3_scaled", True)):
        values = probe_values(p5, probe, "train_one_sample(sample, y, learning_rate)")
        for k, (sample, label) in enumerate(zip(samples, labels, strict=True)):
            x = (sample / 255.0 if scale else sample) * internal_scale
            found = _student_params(values, k, orientation)
            expected, _ = ref.step(start, x, int(label))
            error = update_error(start, found, expected)
            worst = max(worst, error)
            if error > Q3_RTOL:
                where = f"{'scaled' if scale else 'raw'} test sample {k} (label {label})"
                raise CheckFailed(_q3_message(start, found, x, int(label), error, where))
    record.add("found", f"largest relative difference from the reference update: {worst:.2e}")


def _student_params(values: dict, k: int, orientation: str) -> ref.Params:
    return params_from(values, f"s{k}_", orientation, "after train_one_sample")


def update_error(start: ref.Params, found: ref.Params, expected: ref.Params) -> float:
    """Largest per-layer relative difference between two updates (new - start)."""
    pairs = list(
        zip(
            start.weights + start.biases,
            found.weights + found.biases,
            expected.weights + expected.biases,
            strict=True,
        )
    )
    scale = max(float(np.abs(e - s).max()) for s, _, e in pairs)
    worst = 0.0
    for s, f, e in pairs:
        if not np.all(np.isfinite(f)):
            return float("inf")
        denominator = max(float(np.abs(e - s).max()), 1e-6 * scale, 1e-300)
        worst = max(worst, float(np.abs((f - s) - (e - s)).max()) / denominator)
    return worst


def _q3_message(start, found, x, label, error, where) -> str:
    if all(np.array_equal(f, s) for f, s in zip(found.weights, start.weights, strict=True)):
        return f"train_one_sample did not change `weights` on {where}: the update lines must modify the global lists"
    for bug, description in BUGS.items():
        if update_error(start, found, buggy_step(start, x, label, ref.LEARNING_RATE, bug)) < 1e-6:
            return (
                f"the update on {where} differs from correct backprop (relative error {error:.2g}) "
                f"and matches a known mistake: {description}"
            )
    layers = [
        f"weights[{i}]"
        for i, (f, s, e) in enumerate(
            zip(found.weights, start.weights, ref.step(start, x, label)[0].weights, strict=True)
        )
        if not np.allclose(f - s, e - s, rtol=1e-6, atol=1e-12)
    ]
    return (
        f"the update on {where} differs from correct backprop (relative error {error:.2g}); "
        f"wrong layers: {', '.join(layers) or 'biases only'}. Expected the gradient of the "
        "cross-entropy of softmax outputs with sigmoid hidden layers"
    )


# --- Q4: the student's training loop ----------------------------------------------


@pytest.fixture(scope="session")
def reference_curve(quick: bool, scaled: bool) -> list[float]:
    # The same for every student: trained once per data, code and mode, then read from disk.
    return cached_value(
        "p5-reference-curve",
        lambda: _reference_curve(quick, scaled),
        datasets=("mnist",),
        code=(ref,),
        quick=quick,
        scaled=scaled,
    )


def _reference_curve(quick: bool, scaled: bool) -> list[float]:
    mnist = load("mnist")
    limit = 6000 if quick else None
    history = ref.train(
        mnist.x_train[:limit], mnist.y_train[:limit], mnist.x_test, mnist.y_test, scale=scaled
    )
    return [round(r.test_acc, 4) for r in history[1:]]


@pytest.fixture(scope="session")
def input_factor(p5: NotebookRun, internal_scale: float) -> float:
    """What a raw 0-255 pixel is multiplied by before the student's network sees it.

    Global scaling (x_train / 255 in the notebook) and scaling inside the
    functions both count; the grader evaluates the trained weights the same way.
    """
    value = p5.probe("p5_q4").values.get("x_train_max")
    globally = isinstance(value, int | float) and value <= 1.0
    return internal_scale * (1 / 255 if globally else 1.0)


@pytest.fixture(scope="session")
def scaled(input_factor: float) -> bool:
    return input_factor != 1.0


@pytest.mark.part("5-q4")
def test_q4_training_reaches_accuracy(
    p5, orientation, input_factor, quick, reference_curve, record
):
    values = probe_values(p5, "p5_q4", "train_one_epoch()")
    mnist = load("mnist")
    accuracies = []
    for epoch in range(3):
        params = _epoch_params(values, epoch, orientation)
        inputs = mnist.x_test * input_factor if input_factor != 1 else mnist.x_test
        accuracies.append(round(ref.evaluate(params, inputs, mnist.y_test)[1], 4))
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
    record.add(
        "note",
        "raw 0-255 inputs make this training chaotic (correct code ends anywhere in about "
        f"0.52-0.72), so this is a sanity gate at {gate:.0%}; the gradient check (Q3) carries the points",
    )
    if not accuracies[-1] >= gate:
        raise CheckFailed(
            f"after 3 epochs of your train_one_epoch the test accuracy is {accuracies[-1]:.1%} "
            f"(per epoch: {', '.join(f'{a:.1%}' for a in accuracies)}); expected at least {gate:.0%}"
        )


def _epoch_params(values: dict, epoch: int, orientation: str) -> ref.Params:
    params = params_from(values, f"e{epoch}_", orientation, f"after epoch {epoch + 1}")
    # A diverged run is judged by its accuracy, not refused: NaN weights predict nothing.
    return ref.Params(
        tuple(np.nan_to_num(w) for w in params.weights),
        tuple(np.nan_to_num(b) for b in params.biases),
        params.orientation,
    )


def params_from(values: dict, prefix: str, orientation: str, when: str) -> ref.Params:
    """The 3 layers a probe emitted as `{prefix}w0..2` / `{prefix}b0..2`, shape-checked."""
    weights, biases = [], []
    for layer, (n_in, n_out) in enumerate(SIZES):
        w, b = values.get(f"{prefix}w{layer}"), values.get(f"{prefix}b{layer}")
        shape = (n_in, n_out) if orientation == "in_out" else (n_out, n_in)
        if w is None or b is None or w.shape != shape or b.size != n_out:
            raise CheckFailed(
                f"{when}, weights[{layer}]/biases[{layer}] have shapes "
                f"{None if w is None else w.shape}/{None if b is None else b.shape}; "
                f"expected {shape}/({n_out},)"
            )
        weights.append(w)
        biases.append(b.reshape(n_out))
    return ref.Params(tuple(weights), tuple(biases), orientation)  # type: ignore[arg-type]
