"""Known wrong versions of one problem-5 SGD step, to name a student's likely bug.

The reference (`reference.numpy_backprop.step`) is the truth; these variants
differ from it in exactly one way each. When a student's update matches one
of them and not the reference, the check says which mistake that is.
"""

from __future__ import annotations

import numpy as np

from reference.numpy_backprop import Params, as_input, integer_to_one_hot, orient, sigmoid, softmax

BUGS = {
    "dsigmoid-on-activation": "the sigmoid derivative is applied to the activation "
    "a = sigmoid(z) instead of to z (sigmoid applied twice)",
    "update-inside-loop": "weights are updated inside the backward loop, so earlier layers "
    "backpropagate through already-updated weights",
    "sigmoid-output": "the output layer uses a sigmoid instead of softmax",
    "loss-vs-prediction": "the output error is taken against the one-hot of the predicted "
    "class instead of the label",
}


def buggy_step(params: Params, sample: np.ndarray, label: int, lr: float, bug: str) -> Params:
    """One SGD step with `bug` (a key of BUGS); returns params in `params`' orientation."""
    p = orient(params, "in_out")
    weights, biases = [w.copy() for w in p.weights], [b.copy() for b in p.biases]
    acts, zs = _forward(weights, biases, as_input(sample), sigmoid_output=bug == "sigmoid-output")
    target = np.argmax(acts[-1]) if bug == "loss-vs-prediction" else label
    delta = acts[-1] - integer_to_one_hot(int(target), 10)
    updates = []
    for layer in reversed(range(len(weights))):
        grad_w, grad_b = np.outer(acts[layer], delta), delta
        if bug == "update-inside-loop":
            weights[layer] -= lr * grad_w
            biases[layer] -= lr * grad_b
        else:
            updates.append((layer, grad_w, grad_b))
        if layer > 0:
            local = (
                _dsigmoid_of(acts[layer])
                if bug == "dsigmoid-on-activation"
                else _dsigmoid_of(zs[layer - 1])
            )
            delta = (weights[layer] @ delta) * local
    for layer, grad_w, grad_b in updates:
        weights[layer] -= lr * grad_w
        biases[layer] -= lr * grad_b
    return orient(Params(tuple(weights), tuple(biases), "in_out"), params.orientation)


def _forward(weights, biases, a, sigmoid_output: bool):
    acts, zs = [a], []
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = acts[-1] @ w + b
        zs.append(z)
        last = layer == len(weights) - 1
        acts.append(sigmoid(z) if (not last or sigmoid_output) else softmax(z))
    return acts, zs


def _dsigmoid_of(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return s * (1 - s)
