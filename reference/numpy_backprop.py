"""Problem 5 (both editions): numpy backprop on MNIST, faithful to the starter.

Network 784 → 32 → 32 → 10: sigmoid hidden layers, softmax output,
cross-entropy loss, per-sample SGD at lr 0.003. With a = input,
aₗ = σ(zₗ), zₗ = aₗ₋₁Wₗ + bₗ (weights stored (n_in, n_out)) and p = softmax(z₃):

    δ₃ = p − onehot(label)                 ∂L/∂W₃ = a₂ᵀδ₃,  ∂L/∂b₃ = δ₃
    δ₂ = (δ₃W₃ᵀ) ⊙ a₂(1 − a₂)              ∂L/∂W₂ = a₁ᵀδ₂,  ∂L/∂b₂ = δ₂
    δ₁ = (δ₂W₂ᵀ) ⊙ a₁(1 − a₁)              ∂L/∂W₁ = aᵀδ₁,   ∂L/∂b₁ = δ₁

`step` is that math as a pure function (the reference a TA reads);
`train_epoch` runs the same update in place on a private copy with
preallocated buffers and BLAS rank-1 updates (the fast path the harness runs).

Raw 0–255 inputs, as the starter feeds them, make training *chaotic*: the
first layer's pre-activations are in the hundreds, the sigmoids saturate, and
a change in the last bit of any intermediate (summation order, sigmoid
formula, BLAS kernel) moves the 3-epoch test accuracy anywhere in about
0.52–0.72. Scaled inputs ([0, 1]) reach about 0.92 after 3 epochs and are
stable to such changes. Checks must therefore judge raw-input training by a
wide band, never by agreement with this reference's number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.random import default_rng
from scipy.linalg.blas import dger
from scipy.special import expit

from reference.blas_threads import single_threaded_blas

Orientation = Literal["in_out", "out_in"]
SIZES = (784, 32, 32, 10)
LEARNING_RATE = 0.003
SEED = 80085


# --- The starter notebook's helpers, verbatim in behaviour -------------------


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The starter's sigmoid: clipped to ±500, stable np.where form."""
    x = np.clip(x, -500, 500)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def dsigmoid(x: np.ndarray) -> np.ndarray:
    return sigmoid(x) * (1 - sigmoid(x))


def softmax(x: np.ndarray) -> np.ndarray:
    b = x.max()
    y = np.exp(x - b)
    return y / y.sum()


def cross_entropy_loss(y: np.ndarray, yHat: np.ndarray) -> float:  # noqa: N803 (starter's name)
    return -np.sum(y * np.log(yHat))


def integer_to_one_hot(x: int, max: int) -> np.ndarray:  # noqa: A002 (starter's signature)
    result = np.zeros(10)
    result[x] = 1
    return result


# --- Parameters ---------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """Weights and biases of the 3 layers; weights in the stated orientation.

    "in_out": weights[l] has shape (n_in, n_out) and a layer is a @ W + b (the
    starter's comment and the seed's choice); "out_in": (n_out, n_in), W @ a + b.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    orientation: Orientation = "in_out"

    def copy(self) -> Params:
        return Params(
            tuple(w.copy() for w in self.weights),
            tuple(b.copy() for b in self.biases),
            self.orientation,
        )


def init_params(
    rng: np.random.Generator | None = None,
    sizes: tuple[int, ...] = SIZES,
    orientation: Orientation = "in_out",
) -> Params:
    """Q1: weights ~ N(0, 1/max(n_in, n_out)), biases zero.

    Replicates a student's draws exactly: one rng.normal(0, 1/sqrt(max),
    size=shape) call per layer, first layer first, shape (n_in, n_out) or
    (n_out, n_in) by orientation; biases come from np.zeros and draw nothing.
    The two orientations therefore hold different numbers, not transposes.
    """
    rng = default_rng(SEED) if rng is None else rng
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        shape = (n_in, n_out) if orientation == "in_out" else (n_out, n_in)
        weights.append(rng.normal(0, 1 / np.sqrt(max(n_in, n_out)), size=shape))
        biases.append(np.zeros(n_out))
    return Params(tuple(weights), tuple(biases), orientation)


def orient(params: Params, orientation: Orientation) -> Params:
    """The same network with weights stored in `orientation` (transposing if needed)."""
    if orientation not in ("in_out", "out_in"):
        raise ValueError(f"orientation must be 'in_out' or 'out_in', got {orientation!r}")
    if params.orientation == orientation:
        return params
    weights = tuple(np.ascontiguousarray(w.T) for w in params.weights)
    return Params(weights, params.biases, orientation)


# --- Forward, gradients and one SGD step: the reference math -----------------


def as_input(sample: np.ndarray, scale: bool = False) -> np.ndarray:
    """A flattened float64 input, optionally scaled from 0–255 to [0, 1]."""
    a = np.asarray(sample, dtype=float).reshape(-1)
    return a / 255.0 if scale else a


def forward_activations(params: Params, a: np.ndarray) -> list[np.ndarray]:
    """[input, a₁, a₂, p]: sigmoid hidden layers, softmax output."""
    p = orient(params, "in_out")
    activations = [a]
    for layer, (w, b) in enumerate(zip(p.weights, p.biases, strict=True)):
        z = activations[-1] @ w + b
        last = layer == len(p.weights) - 1
        activations.append(softmax(z) if last else sigmoid(z))
    return activations


def feed_forward_sample(params: Params, sample: np.ndarray, label: int) -> tuple[float, np.ndarray]:
    """Q2: (cross-entropy loss, one-hot of the most likely class) for one sample."""
    probs = forward_activations(params, as_input(sample))[-1]
    loss = cross_entropy_loss(integer_to_one_hot(label, 10), probs)
    return float(loss), integer_to_one_hot(int(np.argmax(probs)), 10)


def gradients(params: Params, sample: np.ndarray, label: int) -> Params:
    """∂L/∂W and ∂L/∂b for one sample, in the orientation of `params`."""
    p = orient(params, "in_out")
    acts = forward_activations(p, as_input(sample))
    delta = acts[-1] - integer_to_one_hot(label, 10)  # δ₃ = p − y (softmax + CE)
    grad_w, grad_b = [], []
    for layer in reversed(range(len(p.weights))):
        grad_w.append(np.outer(acts[layer], delta))  # ∂L/∂Wₗ = aₗ₋₁ᵀ δₗ
        grad_b.append(delta)  #                         ∂L/∂bₗ = δₗ
        if layer > 0:  # δₗ₋₁ = δₗWₗᵀ ⊙ σ'(zₗ₋₁), σ' = a(1 − a)
            a = acts[layer]
            delta = (p.weights[layer] @ delta) * a * (1 - a)
    grads = Params(tuple(reversed(grad_w)), tuple(reversed(grad_b)), "in_out")
    return orient(grads, params.orientation)


def step(
    params: Params, sample: np.ndarray, label: int, lr: float = LEARNING_RATE
) -> tuple[Params, Params]:
    """Q3: one SGD step on one sample; returns (new params, gradients). Pure."""
    grads = gradients(params, sample, label)
    new = Params(
        tuple(w - lr * g for w, g in zip(params.weights, grads.weights, strict=True)),
        tuple(b - lr * g for b, g in zip(params.biases, grads.biases, strict=True)),
        params.orientation,
    )
    return new, grads


# --- Whole-dataset passes --------------------------------------------------------


def evaluate(
    params: Params,
    x: np.ndarray,
    y: np.ndarray,
    scale: bool = False,
    chunk: int = 5000,
    affine: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """Q2 over a dataset, batched: (average cross-entropy loss, accuracy).

    `scale` divides the inputs by 255 and `affine` (a, b) maps them to a * x + b, a
    chunk at a time: the same numbers as transforming the whole array first,
    without holding a float copy of it.
    """
    p = orient(params, "in_out")
    losses, correct = 0.0, 0
    for start in range(0, len(x), chunk):
        a = np.asarray(x[start : start + chunk], dtype=float).reshape(-1, p.weights[0].shape[0])
        a = a / 255.0 if scale else a
        a = a * affine[0] + affine[1] if affine is not None else a
        labels = np.asarray(y[start : start + chunk])
        for w, b in zip(p.weights[:-1], p.biases[:-1], strict=True):
            a = expit(a @ w + b)
        z = a @ p.weights[-1] + p.biases[-1]
        z -= z.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        losses -= log_probs[np.arange(len(labels)), labels].sum()
        correct += int((z.argmax(axis=1) == labels).sum())
    return losses / len(x), correct / len(x)


def train_epoch(
    params: Params, x: np.ndarray, y: np.ndarray, lr: float = LEARNING_RATE, scale: bool = False
) -> Params:
    """Q4: one pass of per-sample SGD over (x, y) in order; returns new params."""
    trainer = _InPlaceTrainer(orient(params, "in_out"))
    with single_threaded_blas():
        trainer.run(x, y, lr, scale)
    return orient(trainer.params(), params.orientation)


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    seconds: float  # training time of the epoch, evaluation excluded


def train(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int = 3,
    scale: bool = False,
    lr: float = LEARNING_RATE,
    params: Params | None = None,
) -> list[EpochRecord]:
    """The notebook's 3-epoch run; epoch 0 is the untrained network."""
    params = init_params() if params is None else params
    history = [_record(0, params, x_train, y_train, x_test, y_test, scale, 0.0)]
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        params = train_epoch(params, x_train, y_train, lr, scale)
        seconds = time.perf_counter() - start
        history.append(_record(epoch, params, x_train, y_train, x_test, y_test, scale, seconds))
    return history


def _record(epoch, params, x_train, y_train, x_test, y_test, scale, seconds) -> EpochRecord:
    train_loss, train_acc = evaluate(params, x_train, y_train, scale)
    test_loss, test_acc = evaluate(params, x_test, y_test, scale)
    return EpochRecord(epoch, train_loss, train_acc, test_loss, test_acc, seconds)


# --- The fast path ----------------------------------------------------------------


class _InPlaceTrainer:
    """`step`, applied in place with every temporary preallocated.

    Per sample the work is ~20 numpy/BLAS calls on tiny arrays, so call count,
    not arithmetic, sets the speed. Two tricks remove calls:
    * each layer keeps its bias as an extra weight row fed by a constant-1
      input, so one BLAS dger (W ← W − lr·aᵀδ) updates weight and bias
      together and no separate bias add is needed in the forward pass;
    * expit after the starter's clip is the starter's sigmoid in two calls
      instead of ten (they differ by at most an ulp). Only the lower clip at
      −500 is kept (one ufunc, 4x cheaper than np.clip): expit(z) is exactly
      1.0 from z ≈ 37 on, so the upper clip changes no value. The lower one
      matters: without it saturated units reach subnormal floats (< 1e-308),
      whose arithmetic is ~100x slower, and raw-input training saturates a lot.
    All δ are computed before any update, as in `step`.
    """

    def __init__(self, params: Params):
        sizes = [params.weights[0].shape[0]] + [w.shape[1] for w in params.weights]
        # augmented[l] rows: weights (n_in rows), then the bias row.
        self.augmented = [
            np.vstack([w, b[None, :]]) for w, b in zip(params.weights, params.biases, strict=True)
        ]
        # acts[l] = [activation of hidden layer l + 1, 1.0]
        self.acts = [np.ones(n + 1) for n in sizes[1:-1]]
        # Views made once: slicing costs a call per step. They stay valid
        # because every update writes into the same memory.
        self.weight_rows = [m[:-1] for m in self.augmented]
        self.hidden = [a[:-1] for a in self.acts]
        self.z = [np.empty(n) for n in sizes[1:]]
        self.deltas = [np.empty(n) for n in sizes[1:]]
        self.sig_grad = [np.empty(n) for n in sizes[1:-1]]

    def params(self) -> Params:
        weights = tuple(np.ascontiguousarray(m[:-1]) for m in self.augmented)
        biases = tuple(m[-1].copy() for m in self.augmented)
        return Params(weights, biases, "in_out")

    def run(self, x: np.ndarray, y: np.ndarray, lr: float, scale: bool, chunk: int = 2000) -> None:
        n_in = self.augmented[0].shape[0] - 1
        step = self.stepper(lr)
        for start in range(0, len(x), chunk):
            images = np.asarray(x[start : start + chunk]).reshape(-1, n_in)
            # Rows [input, 1.0], converted once per chunk, feed `step` directly.
            block = np.ones((len(images), n_in + 1))
            block[:, :-1] = images
            if scale:
                block[:, :-1] /= 255.0
            labels = np.asarray(y[start : start + chunk]).tolist()
            for row, label in zip(block, labels, strict=True):
                step(row, label)

    def stepper(self, lr: float) -> Callable[[np.ndarray, int], None]:
        """The in-place SGD step at rate lr, as a closure over the buffers.

        Everything the step touches is bound once as a local of the closure;
        attribute lookups and view creation per sample would cost as much as
        a few of the numpy calls.
        """
        (w1, w2, w3), (a1, a2), (z1, z2, z3) = self.augmented, self.acts, self.z
        (_, w2_rows, w3_rows), (h1, h2) = self.weight_rows, self.hidden
        (d1, d2, d3), (s1, s2) = self.deltas, self.sig_grad
        # dger is column-major: it updates the (F-ordered) transposes in place.
        w1_t, w2_t, w3_t = w1.T, w2.T, w3.T
        minus_lr = -lr

        def step(a0: np.ndarray, label: int) -> None:
            """One SGD step; a0 is [input, 1.0]."""
            # forward: z = [a, 1] @ [[W], [b]]
            np.dot(a0, w1, out=z1)
            expit(np.maximum(z1, -500.0, out=z1), out=h1)
            np.dot(a1, w2, out=z2)
            expit(np.maximum(z2, -500.0, out=z2), out=h2)
            np.dot(a2, w3, out=z3)
            # softmax, shifted by the max as in the starter, straight into δ₃ = p − y
            np.subtract(z3, z3.max(), out=z3)
            np.exp(z3, out=d3)
            np.divide(d3, d3.sum(), out=d3)
            d3[label] -= 1.0  # item assignment: d3 stays the closure's array
            # backward: δₗ₋₁ = (Wₗ δₗ) ⊙ a(1 − a), Wₗ without its bias row
            np.dot(w3_rows, d3, out=d2)
            np.subtract(1.0, h2, out=s2)
            np.multiply(s2, h2, out=s2)
            np.multiply(d2, s2, out=d2)
            np.dot(w2_rows, d2, out=d1)
            np.subtract(1.0, h1, out=s1)
            np.multiply(s1, h1, out=s1)
            np.multiply(d1, s1, out=d1)
            # update: [[W], [b]] ← [[W], [b]] − lr · [a, 1]ᵀ δ, one BLAS rank-1 call per layer
            dger(minus_lr, d3, a2, a=w3_t, overwrite_a=True)
            dger(minus_lr, d2, a1, a=w2_t, overwrite_a=True)
            dger(minus_lr, d1, a0, a=w1_t, overwrite_a=True)

        return step
