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

import re
from collections.abc import Sequence
from functools import cache, partial

import numpy as np
import pytest

from checks import weights_source
from checks.notebook_runs import require_probe
from checks.offline import unless_offline
from checks.p5_judging import (
    dataset_report_problems,
    infer_scale,
    matched_transform,
    row_index,
    scale_diagnosis,
    seed_layout,
    telling_factor,
    uniform_factor,
    unseeded,
    update_error,
    update_rtol,
)
from checks.p5_training import TrainingStart, first_sample, precision, training_start
from checks.p5_values import (
    LAYERS,
    GraderError,
    Holder,
    WeightHistory,
    array,
    holder_from,
    number,
    params_from,
    weight_history,
)
from checks.p5_variants import BUGS, FORWARD_BUGS, buggy_forward, buggy_step
from checks.probes import P5_WATCH, p5_dataset, p5_dataset_networks, p5_samples
from checks.scoring import CheckFailed, prerequisite_failed
from dlgrade.data import load
from dlgrade.data.derived import cached_value
from dlgrade.engine import NotebookRun
from dlgrade.engine.cells import why_undefined
from reference import numpy_backprop as ref

Q2_RTOL = 1e-6  # loss of one forward pass
Q4_GATE = {False: 0.5, True: 0.3}  # final test accuracy, by quick mode
# How the engine says a probe has nothing because of the student's code: the kernel died
# or was stopped, the student's functions ran past the time limit, they returned values
# the grader refuses. Anything else is the grader's own probe failing.
STUDENT_PROBE_ERRORS = (
    "not run:",
    "kernel died",
    "probe timed out",
    "refused:",
    "the probe left no results",
)


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


# --- Reaching the student's code -------------------------------------------------------


def probe_values(run: NotebookRun, name: str, needed: str) -> dict:
    """A probe's values; its failure is the student's only when their code caused it."""
    result = run.probe(name)
    if result.error:
        require_probe(run, result, needed)  # the kernel died or was stopped: that status
        if any(part.startswith(STUDENT_PROBE_ERRORS) for part in result.error.split("; ")):
            raise CheckFailed(f"the grader could not call {needed}: {result.error}")
        raise GraderError(f"the grader's probe {name!r} failed (please report): {result.error}")
    return result.values


def interface(run: NotebookRun, name: str, needed: str) -> tuple[dict, Holder]:
    """The probe's values once the names it needs and the weights were found; else why not."""
    values = probe_values(run, name, needed)
    missing = values.get("missing")
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise GraderError(f"probe {name!r} did not say which names are missing: {missing!r}")
    if missing:
        raise CheckFailed(
            "; ".join(f"{m} is not defined because {why_undefined(run, m)}" for m in missing)
        )
    holder = holder_from(values.get("holder"))
    if holder is None:
        raise CheckFailed(no_weights(run))
    return values, holder


def no_weights(run: NotebookRun) -> str:
    """'interface not found: ...' with what the notebook holds instead, and why."""
    values = run.probe("p5_inventory").values
    inventory, defined = values.get("inventory", {}), values.get("defined", {})
    found = []
    if isinstance(inventory, dict):
        for kind in ("containers", "arrays", "classes", "functions"):
            items = inventory.get(kind, [])
            if isinstance(items, list) and items:
                found.append(f"{kind}: " + ", ".join(str(i) for i in items[:12]))
    listing = "; ".join(found) or "nothing usable"
    if isinstance(defined, dict) and "weights" in defined:
        cause = f"; `weights` is a {str(defined['weights'])[:40]}"
    else:
        cause = f"; `weights` is not defined because {why_undefined(run, 'weights')}"
    return (
        "interface not found: the notebook must hold its 784-32-32-10 network as `weights` and "
        "`biases`, lists of 3 arrays as in the starter (weights (n_in, n_out) or (n_out, n_in)), "
        f"and no complete set was found{cause}; found {listing}"
    )


_UNDEFINED = re.compile(r"NameError: name '(\w+)' is not defined")


def explained(run: NotebookRun, error: object) -> str:
    """The student's error, with why the name a NameError misses is missing."""
    text = str(error)[:500]
    match = _UNDEFINED.search(text)
    if match is None:
        return text
    return f"{text} ({match.group(1)} is not defined because {why_undefined(run, match.group(1))})"


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
        problems += _init_statistics(layer, init.params.weights[layer], max(n_in, n_out), stds)
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
def test_q2_forward_pass(p5, record):
    values, holder = interface(p5, "p5_q2", "feed_forward_sample(sample, y)")
    add_note(record, holder.note())
    samples, labels = p5_samples()
    cases = [(s, int(y), "raw") for s, y in zip(samples, labels, strict=True)]
    cases += [(s / 255.0, int(y), "scaled") for s, y in zip(samples, labels, strict=True)]
    losses, guesses = _forward_results(p5, values, cases)
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
        diagnosis = unless_offline(lambda: _forward_diagnosis(losses, cases, params, factor), "")
        raise CheckFailed(f"feed_forward_sample{diagnosis}: " + "; ".join(problems[:4]))
    dataset = _dataset_problems(p5, values, factor)
    if dataset:  # Q2 asks for both functions
        raise CheckFailed(f"feed_forward_sample is right, but {dataset}")


def _forward_diagnosis(
    losses: list[float], cases: Sequence, params: ref.Params, factor: float
) -> str:
    """' matches a known mistake (...)' when the losses are a known wrong forward pass."""
    for bug, description in FORWARD_BUGS.items():
        wrong = [buggy_forward(params, s * factor, y, bug) for s, y, _ in cases]
        if np.allclose(losses, wrong, rtol=Q2_RTOL, equal_nan=True):
            return f" matches a known mistake ({description})"
    if not np.all(np.isfinite(losses)):
        return (
            " returns a nan loss, the log of a number <= 0 (the loss must be the cross-entropy "
            "of the softmax probabilities)"
        )
    return ""


def _forward_results(
    run: NotebookRun, values: dict, cases: Sequence
) -> tuple[list[float], list[np.ndarray]]:
    """Each case's (loss, guess) from the probe, validated; the student's errors named."""
    losses, guesses = [], []
    for k, (_, label, kind) in enumerate(cases):
        where = f"on {kind} test sample {k % (len(cases) // 2)} (label {label})"
        if f"error{k}" in values:
            raise CheckFailed(
                f"feed_forward_sample raised {explained(run, values[f'error{k}'])} {where}"
            )
        if f"returned{k}" in values:
            raise CheckFailed(
                f"interface differs: returns {_returned(values.get(f'returned_sizes{k}'))}, not "
                f"(loss, one_hot_guess); {where} feed_forward_sample returned "
                f"{values[f'returned{k}']}"
            )
        when = f"{where}, feed_forward_sample returned"
        losses.append(_loss(values, f"loss{k}", when))
        guess = array(values, f"guess{k}", "a guess", when)
        if guess.size != 10:
            raise CheckFailed(
                f"{when} a guess of shape {guess.shape}; expected a one-hot vector of length 10"
            )
        guesses.append(guess.reshape(10))
    return losses, guesses


def _returned(sizes: object) -> str:
    """What feed_forward_sample returned instead, from the sizes of the returned items."""
    if not isinstance(sizes, list) or not all(isinstance(n, int) for n in sizes):
        return "something else"
    if len(sizes) >= 3 and sizes[-1] == 10 and 32 in sizes:
        return "the activations"  # one per layer, the output last
    if sizes == [10]:
        return "one vector of 10 values"
    return f"{len(sizes)} value{'s' * (len(sizes) != 1)}"


def _loss(values: dict, key: str, when: str) -> float:
    """The loss as one number; NaN or infinity stays, to be compared with the reference's."""
    raw = values.get(key)
    if isinstance(raw, float | np.ndarray) and np.size(raw) == 1:
        value = float(np.asarray(raw, dtype=float).reshape(()))
        if not np.isfinite(value):
            return value
    return number(values, key, "a loss", when)


def _dataset_problems(run: NotebookRun, values: dict, sample_factor: float) -> str:
    """What is wrong with feed_forward_dataset on the fixed set ('' when nothing).

    It ran on one trained network twice (p5_dataset_networks): for raw pixels
    and for pixels / 255. A function that uses raw pixels must be right on the
    first, one that divides by 255 itself on the second; problems are named
    for the scale feed_forward_sample uses.
    """
    x, y = p5_dataset()
    what = f"feed_forward_dataset(x, y) on {len(x)} fixed test images"
    if "raw_printed" not in values:
        why = why_undefined(run, "feed_forward_dataset")
        return f"feed_forward_dataset is not defined because {why}"
    networks = p5_dataset_networks()
    found = {}
    for tag, factor in (("raw", 1.0), ("scaled", 1 / 255)):
        error = values.get(f"{tag}_error")
        printed = str(values.get(f"{tag}_printed") or "")
        returned = values.get(f"{tag}_returned")
        text = printed + ("\n" + str(returned) if returned else "")
        if error:
            found[factor] = f"{what} raised {explained(run, error)}"
            continue
        if not text.strip():
            found[factor] = f"{what} printed nothing; expected the average loss and the accuracy"
            continue
        loss, accuracy = ref.evaluate(networks[tag], x * factor, y)
        problems = dataset_report_problems(text, loss, round(accuracy * len(x)), len(x))
        if not problems:
            return ""
        shown = " / ".join(line.strip() for line in printed.splitlines() if line.strip())
        found[factor] = f"{what}: {'; '.join(problems)}; it printed: {shown[:300]!r}"
    return found.get(sample_factor) or next(iter(found.values()))


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


def q3_message(
    start: ref.Params, found: ref.Params, x: np.ndarray, label: int, where: str, factor: float = 1.0
) -> str:
    """The most specific explanation of a wrong update: none made, a known mistake or a
    constant factor (under either input scale), else the layers that differ from the
    reference under input scale `factor`."""
    if all(np.array_equal(f, s) for f, s in zip(found.weights, start.weights, strict=True)):
        return (
            f"train_one_sample did not change the weights on {where}: the update lines must "
            "modify the network's weights"
        )
    for scale in dict.fromkeys((factor, 1.0, 1 / 255)):
        correct = ref.step(start, x * scale, label)[0]
        for bug, description in BUGS.items():
            wrong = buggy_step(start, x * scale, label, ref.LEARNING_RATE, bug)
            if update_error(start, found, wrong) < 1e-6:
                return (
                    f"the update on {where} differs from correct backprop (relative error "
                    f"{update_error(start, found, correct):.2g}) and matches a known mistake: "
                    f"{description}"
                )
        c = uniform_factor(start, found, correct)
        if c is not None and telling_factor(c):  # "1 times the correct one" explains nothing
            return f"the update on {where} is off by a constant factor: {scale_diagnosis(c)}"
    correct = ref.step(start, x * factor, label)[0]
    layers = [
        f"weights[{i}]"
        for i, (f, s, e) in enumerate(
            zip(found.weights, start.weights, correct.weights, strict=True)
        )
        if not np.allclose(f - s, e - s, rtol=1e-6, atol=1e-12)
    ]
    return (
        f"the update on {where} differs from correct backprop (relative error "
        f"{update_error(start, found, correct):.2g}); wrong layers: "
        f"{', '.join(layers) or 'biases only'}. Expected the gradient of the cross-entropy of "
        "softmax outputs with sigmoid hidden layers"
    )


# --- Q4: the student's training loop ----------------------------------------------


@pytest.fixture(scope="session")
def reference_curve(quick: bool, q4_scale) -> list[float]:
    """The reference's test accuracy after each of 3 epochs, with the student's kind of
    inputs (raw, or scaled to [0, 1]). The same for every student: trained once per data,
    code and mode, then read from disk."""
    scaled = q4_scale[0][0] != 1.0
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


@pytest.mark.part("5-q4")
def test_q4_training_reaches_accuracy(
    p5, history, q4_scale, quick, reference_curve, grader, part, record
):
    values, holder = interface(p5, "p5_q4", "train_one_epoch()")
    factor, scale_note = q4_scale
    epochs, how = _trained_weights(p5, values, history, holder)
    record.add("found", how)
    concern = weights_source.report(
        _q4_concerns(p5, values, history), p5.source.path.name, grader.observe, record
    )
    mnist = load("mnist")
    inputs = mnist.x_test * factor[0] + factor[1]
    accuracies = [round(ref.evaluate(p, inputs, mnist.y_test)[1], 4) for p in epochs]
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


def _q4_concerns(
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


def _trained_weights(
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
        return [_finite(s.params) for s in epochs], how
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
        _finite(params_from(values, f"e{e}_", holder.orientation, f"after epoch {e + 1}", False))
        for e in range(3)
    ]
    return epochs, f"re-trained by the grader from its own start, because {reason}"


def _finite(params: ref.Params) -> ref.Params:
    # A diverged run is judged by its accuracy, not refused: NaN weights predict nothing.
    return ref.Params(
        tuple(np.nan_to_num(w) for w in params.weights),
        tuple(np.nan_to_num(b) for b in params.biases),
        params.orientation,
    )


@pytest.fixture(scope="session")
def q4_scale(p5: NotebookRun, request: pytest.FixtureRequest) -> tuple[tuple[float, float], str]:
    """((a, b), note): a raw test pixel p reaches the student's network as a * p + b.

    The notebook's own transform of its inputs (x / 255, a standardisation),
    read from the first sample its training received, else from the arrays
    shaped like MNIST images it holds under any name; each row is matched to
    its MNIST image by content, so shuffled or renamed data is read too. Times
    the scale train_one_sample applies itself when Q3 could tell it (1 otherwise).
    """
    transform, held = _held_transform(p5)
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


def _held_transform(run: NotebookRun) -> tuple[tuple[float, float] | None, bool]:
    """(the notebook's input transform or None, whether it holds image-shaped inputs at all)."""
    raw, index = _mnist_rows()
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
def _mnist_rows() -> tuple[np.ndarray, dict[bytes, int]]:
    """Every MNIST image (train, then test) as 784 raw pixels, and their content index."""
    mnist = load("mnist")
    raw = np.concatenate([mnist.x_train.reshape(-1, 784), mnist.x_test.reshape(-1, 784)])
    return raw, row_index(raw)
