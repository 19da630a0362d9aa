"""Problem 5, Q2: the forward pass's values read from the probe, and what is wrong with them.

`forward_results` validates each (loss, guess) the student's feed_forward_sample
returned; `forward_diagnosis` names a known wrong forward pass; `dataset_problems`
judges what feed_forward_dataset printed on the fixed set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from checks.p5_interface import explained
from checks.p5_judging import dataset_report_problems
from checks.p5_values import array, number
from checks.p5_variants import FORWARD_BUGS, buggy_forward
from checks.probes import p5_dataset, p5_dataset_networks
from checks.scoring import CheckFailed
from dlgrade.engine import NotebookRun
from dlgrade.engine.cells import why_undefined
from reference import numpy_backprop as ref

Q2_RTOL = 1e-6  # loss of one forward pass


def forward_diagnosis(
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


def forward_results(
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
                f"interface differs: returns {returned_text(values.get(f'returned_sizes{k}'))}, not "
                f"(loss, one_hot_guess); {where} feed_forward_sample returned "
                f"{values[f'returned{k}']}"
            )
        when = f"{where}, feed_forward_sample returned"
        losses.append(loss_value(values, f"loss{k}", when))
        guess = array(values, f"guess{k}", "a guess", when)
        if guess.size != 10:
            raise CheckFailed(
                f"{when} a guess of shape {guess.shape}; expected a one-hot vector of length 10"
            )
        guesses.append(guess.reshape(10))
    return losses, guesses


def returned_text(sizes: object) -> str:
    """What feed_forward_sample returned instead, from the sizes of the returned items."""
    if not isinstance(sizes, list) or not all(isinstance(n, int) for n in sizes):
        return "something else"
    if len(sizes) >= 3 and sizes[-1] == 10 and 32 in sizes:
        return "the activations"  # one per layer, the output last
    if sizes == [10]:
        return "one vector of 10 values"
    return f"{len(sizes)} value{'s' * (len(sizes) != 1)}"


def loss_value(values: dict, key: str, when: str) -> float:
    """The loss as one number; NaN or infinity stays, to be compared with the reference's."""
    raw = values.get(key)
    if isinstance(raw, float | np.ndarray) and np.size(raw) == 1:
        value = float(np.asarray(raw, dtype=float).reshape(()))
        if not np.isfinite(value):
            return value
    return number(values, key, "a loss", when)


def dataset_problems(run: NotebookRun, values: dict, sample_factor: float) -> str:
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
