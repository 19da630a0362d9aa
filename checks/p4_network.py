"""The student's problem-4 network, rebuilt in the grader from the weights the probe read.

The probe (checks/kernel/p4_model.py) reports every network in the notebook:
its Linear layers in the order the forward pass calls them, the operations
of that forward pass (traced with torch.fx, or forward hooks when fx cannot
trace it), what the first Linear received and what the model returned on
fixed test images. Here the grader

* chooses the graded model on purpose: the one the training loop's optimizer
  stepped (the watch counts steps), else the one a global optimizer holds,
  else the largest, and says which;
* rebuilds it as a plain multilayer perceptron in numpy and checks that the
  rebuild reproduces the student's outputs (as logits, log-probabilities or
  probabilities: a final LogSoftmax or Softmax is allowed);
* judges the architecture against `reference.fashion_mlp.LAYER_SIZES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from checks import p4_values as read
from reference import fashion_mlp as ref

# Activation names in traces (torch.fx function/method names and module class names).
ACTIVATIONS = {
    "relu": "relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "leaky_relu": "leaky_relu",
    "leakyrelu": "leaky_relu",
    "elu": "elu",
    "gelu": "gelu",
}
# Operations that do nothing to a rebuilt network's values at evaluation time.
NEUTRAL = re.compile(
    r"^(view|reshape|flatten|flatten_|size|getitem|getattr|contiguous|float|to|squeeze|"
    r"unsqueeze|dropout\w*|identity|alphadropout)$"
)
_BOOKKEEPING = re.compile(r"^(getattr|getitem|size|dim|contiguous)$")
FINAL = {
    "softmax": "probabilities",
    "log_softmax": "log-probabilities",
    "logsoftmax": "log-probabilities",
}
OUTPUT_RTOL, OUTPUT_ATOL = 1e-3, 1e-4


@dataclass(frozen=True)
class OwnEvaluation:
    """The model's accuracy on the student's own test set, computed in the kernel."""

    dataset: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total


@dataclass(frozen=True)
class Candidate:
    """One network the probe found, with its validated values."""

    index: int
    name: str
    aliases: tuple[str, ...]
    params: int
    weight_ids: tuple[int, ...]
    optimizers: tuple[str, ...]
    ops: tuple[str, ...]
    trace: str
    error: str | None
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    first_input: np.ndarray | None  # what the first Linear saw on the grader's images
    outputs: np.ndarray | None
    own: OwnEvaluation | None
    own_error: str | None

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """(out, in) of each Linear layer, in call order."""
        return tuple((int(w.shape[0]), int(w.shape[1])) for w in self.weights)

    def layer_text(self) -> str:
        """'784 -> 256 -> 10' (or the Linear shapes when they do not chain)."""
        shapes = self.shapes
        if not shapes:
            return "no Linear layers"
        if all(a[0] == b[1] for a, b in zip(shapes, shapes[1:], strict=False)):
            return " -> ".join([str(shapes[0][1])] + [str(s[0]) for s in shapes])
        return ", ".join(f"{i}x{o}" for o, i in shapes)

    def ops_text(self) -> str:
        """The traced operations, without fx's bookkeeping (attribute and size look-ups)."""
        shown = [op for op in self.ops if not _BOOKKEEPING.match(op.lower())]
        return ", ".join(shown) or "(not traced)"


def candidates(values: dict) -> list[Candidate]:
    """Every network the probe described, validated (CheckFailed names a malformed value)."""
    found = []
    for index, info in enumerate(read.records(values, "models", "the notebook's networks")[:4]):
        found.append(_candidate(values, index, info))
    return found


def _candidate(values: dict, index: int, info: dict) -> Candidate:
    name = read.text(info, "name", f"model {index + 1}")
    weights, biases = [], []
    for j in range(8):
        key = f"m{index}_w{j}"
        if key not in values:
            break
        weight = read.array(values, key, f"the weights of Linear layer {j + 1} of `{name}`", ndim=2)
        bias = read.optional_array(
            values, f"m{index}_b{j}", f"the bias of Linear layer {j + 1} of `{name}`",
            shape=(weight.shape[0],),
        )  # fmt: skip
        weights.append(weight)
        biases.append(bias if bias is not None else np.zeros(weight.shape[0]))
    outputs = read.optional_array(
        values, f"m{index}_out", f"the output of `{name}` on test images", ndim=2
    )
    first = read.optional_array(
        values, f"m{index}_in", f"the input of the first layer of `{name}`", ndim=2
    )
    own, own_error = _own(info.get("own"))
    return Candidate(
        index=index,
        name=name,
        aliases=read.texts(info, "aliases"),
        params=read.integer(info, "params") or 0,
        weight_ids=read.integers(info, "weight_ids"),
        optimizers=read.texts(info, "optimizers"),
        ops=read.texts(info, "ops"),
        trace=read.text(info, "trace"),
        error=read.text(info, "error") or None,
        weights=tuple(weights),
        biases=tuple(biases),
        first_input=first,
        outputs=outputs,
        own=own,
        own_error=own_error,
    )


def _own(raw: object) -> tuple[OwnEvaluation | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    dataset = raw.get("dataset") if isinstance(raw.get("dataset"), str) else "?"
    if isinstance(raw.get("error"), str):
        return None, f"`{dataset}`: {raw['error']}"
    correct, total = read.integer(raw, "correct"), read.integer(raw, "total")
    if correct is None or not total or not 0 <= correct <= total:
        return None, f"`{dataset}`: malformed counts"
    return OwnEvaluation(dataset, correct, total), None


# --- which model is graded ------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    why: str  # one clause for the details: which model and why that one
    steps: int | None  # optimizer steps that updated it (None: not observed)


def choose(found: list[Candidate], steps: dict[int, int] | None) -> Choice:
    """The model the training loop optimised, else one an optimizer holds, else the largest.

    `steps`: optimizer steps per first-layer weight id, as the watch counted
    them (None when the watch did not see torch).
    """
    observed = None if steps is None else 0
    stepped = [(sum((steps or {}).get(i, 0) for i in c.weight_ids), c) for c in found]
    count, best = max(stepped, key=lambda s: (s[0], s[1].params))
    if count > 0:
        why = f"the model the training loop's optimizer updated ({count} optimizer steps)"
        return Choice(best, _graded(best, why, found), count)
    held = [c for c in found if c.optimizers]
    if held:
        why = f"the model whose parameters `{held[0].optimizers[0]}` holds"
        return Choice(held[0], _graded(held[0], why, found), observed)
    best = max(found, key=lambda c: c.params)
    why = "the largest network in the notebook (no optimizer was seen updating a model)"
    return Choice(best, _graded(best, why, found), observed)


def _graded(chosen: Candidate, why: str, found: list[Candidate]) -> str:
    others = ", ".join(f"`{c.name}`" for c in found if c is not chosen)
    return f"graded `{chosen.name}`, {why}" + (
        f"; also in the notebook: {others}" if others else ""
    )


# --- rebuilding the forward pass ------------------------------------------------------


def activations(candidate: Candidate) -> tuple[tuple[str, ...], str]:
    """(activation after each hidden Linear, what the forward pass ends with) from the trace.

    An unknown operation between layers gives "?"; a forward pass without a
    trace (or with functional calls hooks cannot see) gives "" entries.
    """
    between: list[list[str]] = []
    final = "logits"
    for op in candidate.ops:
        lowered = op.lower()
        if lowered.startswith("linear("):
            between.append([])
            final = "logits"
            continue
        if not between or NEUTRAL.match(lowered):
            continue
        if lowered in FINAL:
            final = FINAL[lowered]
            continue
        between[-1].append(ACTIVATIONS.get(lowered, "?"))
    hidden = tuple("+".join(ops) if ops else "" for ops in between[:-1])
    return hidden, final


def forward(candidate: Candidate, x: np.ndarray, acts: tuple[str, ...]) -> np.ndarray:
    """The rebuilt network's logits on rows `x` (n, 784), float64."""
    h = np.asarray(x, dtype=np.float64)
    for k, (w, b) in enumerate(zip(candidate.weights, candidate.biases, strict=True)):
        h = h @ w.T + b
        if k < len(candidate.weights) - 1:
            h = _activate(h, acts[k] if k < len(acts) else "relu")
    return h


def _activate(h: np.ndarray, name: str) -> np.ndarray:
    for part in name.split("+"):
        if part == "relu":
            h = np.maximum(h, 0.0)
        elif part == "sigmoid":
            h = 1.0 / (1.0 + np.exp(-h))
        elif part == "tanh":
            h = np.tanh(h)
        elif part == "leaky_relu":
            h = np.where(h > 0, h, 0.01 * h)
        elif part == "elu":
            h = np.where(h > 0, h, np.expm1(np.minimum(h, 0)))
        elif part == "gelu":
            from scipy.special import erf

            h = h * 0.5 * (1.0 + erf(h / np.sqrt(2.0)))
        elif part != "":
            raise ValueError(f"cannot rebuild activation {part!r}")
    return h


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


OUTPUT_FORMS = {
    "logits": lambda z: z,
    "log-probabilities": log_softmax,
    "probabilities": lambda z: np.exp(log_softmax(z)),
}


@dataclass(frozen=True)
class Rebuild:
    """A rebuild that reproduces the student's outputs: its activations and output form."""

    activations: tuple[str, ...]
    output: str  # logits, log-probabilities or probabilities


def rebuild(candidate: Candidate) -> Rebuild | None:
    """The activations and output form under which the rebuild matches the student's outputs."""
    if candidate.outputs is None or candidate.first_input is None or not candidate.weights:
        return None
    if candidate.first_input.shape[1] != candidate.weights[0].shape[1]:
        return None
    traced, final = activations(candidate)
    hidden = len(candidate.weights) - 1
    options = [tuple(a or "relu" for a in traced[:hidden]) + ("relu",) * (hidden - len(traced))]
    options.append(("relu",) * hidden)
    forms = [final] + [f for f in OUTPUT_FORMS if f != final]
    for acts in dict.fromkeys(options):
        try:
            z = forward(candidate, candidate.first_input, acts)
        except ValueError:
            continue
        for form in forms:
            if _close(candidate.outputs, OUTPUT_FORMS[form](z)):
                return Rebuild(acts, form)
    return None


def _close(found: np.ndarray, expected: np.ndarray) -> bool:
    if found.shape != expected.shape:
        return False
    scale = max(1.0, float(np.abs(expected).max()))
    return bool(np.allclose(found, expected, rtol=OUTPUT_RTOL, atol=OUTPUT_ATOL * scale))


def expected_shapes() -> tuple[tuple[int, int], ...]:
    sizes = ref.LAYER_SIZES
    return tuple((n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def expected_text() -> str:
    return " -> ".join(str(s) for s in ref.LAYER_SIZES)
