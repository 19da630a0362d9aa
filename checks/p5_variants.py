"""Known wrong versions of the problem-5 forward pass and SGD step, to name a student's bug.

The reference (`reference.numpy_backprop`) is the truth; these variants
differ from it in exactly one way each. When a student's result matches one
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
    "no-softmax": "the output layer has no softmax: the error is taken on the raw outputs "
    "(logits) instead of on the softmax probabilities",
    "loss-vs-prediction": "the output error is taken against the one-hot of the predicted "
    "class instead of the label",
}


def buggy_step(params: Params, sample: np.ndarray, label: int, lr: float, bug: str) -> Params:
    """One SGD step with `bug` (a key of BUGS); returns params in `params`' orientation."""
    p = orient(params, "in_out")
    weights, biases = [w.copy() for w in p.weights], [b.copy() for b in p.biases]
    acts, zs = _forward(weights, biases, as_input(sample), _OUTPUTS.get(bug, softmax))
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


def _linear(z: np.ndarray) -> np.ndarray:
    return z


# The output activation each bug uses in place of the softmax.
_OUTPUTS = {"sigmoid-output": sigmoid, "no-softmax": _linear}

FORWARD_BUGS = {
    "no-softmax": "the output layer has no softmax: the loss is the cross-entropy of the raw "
    "outputs (logits), whose log is nan wherever an output is negative",
    "sigmoid-output": "the output layer uses a sigmoid instead of softmax",
}


def buggy_forward(params: Params, sample: np.ndarray, label: int, bug: str) -> float:
    """The loss feed_forward_sample returns with `bug` (a key of FORWARD_BUGS)."""
    p = orient(params, "in_out")
    acts, _ = _forward(list(p.weights), list(p.biases), as_input(sample), _OUTPUTS[bug])
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-np.sum(integer_to_one_hot(label, 10) * np.log(acts[-1])))


def _forward(weights, biases, a, output):
    acts, zs = [a], []
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = acts[-1] @ w + b
        zs.append(z)
        acts.append(output(z) if layer == len(weights) - 1 else sigmoid(z))
    return acts, zs


def _dsigmoid_of(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return s * (1 - s)
