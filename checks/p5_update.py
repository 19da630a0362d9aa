"""Problem 5, Q3: the most specific explanation of a wrong update by train_one_sample."""

from __future__ import annotations

import numpy as np

from checks.p5_judging import scale_diagnosis, telling_factor, uniform_factor, update_error
from checks.p5_variants import BUGS, buggy_step
from reference import numpy_backprop as ref


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
