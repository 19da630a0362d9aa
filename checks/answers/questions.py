"""What answers.toml holds for each edition: its sections, their keys, and their vocabularies.

A *question* is one problem's answer block (keys, kinds, expression
vocabularies, student-facing docs). A *section* places a question in an
edition under a table name (`[2a]`) and says which manifest parts it feeds.
The template, the loader and the checks all read these, so the format is
defined once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from checks.answers.language import Vocabulary

Kind = Literal["expression", "number", "numbers", "boolean", "text", "size"]

_MATH = frozenset({"abs", "sqrt", "exp", "log", "sum", "norm"})


@dataclass(frozen=True)
class Field:
    """One key of a section; `example` is valid TOML of the right kind that is NOT the answer."""

    key: str
    kind: Kind
    doc: str
    example: str
    vocabulary: Vocabulary | None = None
    count: int | None = None  # length of a `numbers` list
    required: bool = True


@dataclass(frozen=True)
class Question:
    title: str
    fields: tuple[Field, ...]
    notes: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()  # at least one of these keys must be given

    def field(self, key: str) -> Field:
        for candidate in self.fields:
            if candidate.key == key:
                return candidate
        raise KeyError(f"question {self.title!r} has no key {key!r}")


@dataclass(frozen=True)
class SectionSpec:
    """A question as it appears in one edition's answers.toml."""

    name: str  # the TOML table name, e.g. "2a"
    question: Question
    parts: tuple[str, ...]  # manifest part ids this section feeds


_SIZES = (
    "Sizes are written rows x columns with the letters n (number of examples), d "
    "(number of features) and 1, e.g. a matrix with one row per example and one column "
    'per feature is written "n x d".'
)

GRADIENT_OF_SQUARED_NORM = Question(
    title="gradient of f(x) = ||x||_2^2",
    fields=(
        Field(
            "gradient",
            "expression",
            "the gradient of f at x, a vector in R^d",
            '"3*norm(x)*x"  # (the gradient of some other function)',
            Vocabulary(names={"x": "the vector x in R^d", "d": "the length of x"}, functions=_MATH),
        ),
    ),
)

MEAN_MINIMISER = Question(
    title="the vector mu minimising sum_i ||x_i - mu||_2^2",
    fields=(
        Field(
            "mu",
            "expression",
            "the minimising vector mu, in terms of the points x_i",
            '"sum_i(norm(x_i)*x_i)"  # (a made-up vector)',
            Vocabulary(
                names={"n": "the number of points", "d": "the dimension of each point"},
                indexed={"x_i": ("the i-th point, a vector in R^d", "i")},
                functions=_MATH,
                reducers=frozenset({"sum_i", "mean_i"}),
            ),
        ),
    ),
    notes=("sum_i(...) sums over i = 1..n; mean_i(...) is the same sum divided by n.",),
)

_L1_VOCABULARY = Vocabulary(
    names={
        "X": "the data matrix, one row per example",
        "w": "the weight vector",
        "y": "the label vector",
        "n": "the number of examples",
        "d": "the number of features",
    },
    functions=_MATH,
)

L1_LOSS = Question(
    title="l1 training loss in matrix form, with sizes",
    fields=(
        Field(
            "loss",
            "expression",
            "the training loss L(w) as one matrix expression",
            '"sum((X@w - y)**2)"  # (the squared-error loss, not this one)',
            _L1_VOCABULARY,
        ),
        Field("X", "size", "the size of X", '"5 x 3"'),
        Field("w", "size", "the size of w", '"5 x 3"'),
        Field("y", "size", "the size of y", '"5 x 3"'),
    ),
    notes=(_SIZES,),
)

L1_CLOSED_FORM = Question(
    title="is there a closed-form solution like least squares?",
    fields=(
        Field("closed_form", "boolean", "true or false (no quotes)", "true"),
        Field("reason", "text", "one or two sentences: why", '"..."'),
    ),
)

L1_REFLECTION = Question(
    title="reflection",
    fields=(Field("reflection", "text", "your 2-3 sentences (read by a TA)", '"""..."""'),),
)

_RELU_ORDER = "in the order W_H1..W_H4, b_H1..b_H4, W_O1..W_O4, b_O"

RELU_DATASETS = Question(
    title="weights that fit the two datasets exactly",
    fields=(
        Field(
            "dataset1",
            "numbers",
            f"13 weights for dataset 1, {_RELU_ORDER}",
            "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]",
            count=13,
            required=False,
        ),
        Field(
            "dataset2",
            "numbers",
            f"13 weights for dataset 2, {_RELU_ORDER}",
            "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]",
            count=13,
            required=False,
        ),
    ),
    notes=("Optional: when left out, the weights are read from your problem-3 notebook.",),
)

LOSS_GRADIENT = Question(
    title="the gradient of L(theta) = sum_i (y_i - f(x_i, theta))^2",
    fields=(
        Field(
            "grad_L",
            "expression",
            "the gradient of L with respect to theta, in terms of f and grad_f",
            '"sum_i(f(x_i, theta)*grad_f(x_i, theta))"  # (a different sum)',
            Vocabulary(
                names={"theta": "the 13 parameters", "n": "the number of data points"},
                indexed={"x_i": ("the i-th input", "i"), "y_i": ("the i-th target", "i")},
                functions=_MATH,
                problem_functions={
                    "f": ("f(x, theta): the network's output", 2),
                    "grad_f": ("grad_f(x, theta): the gradient of f with respect to theta", 2),
                },
                reducers=frozenset({"sum_i", "mean_i"}),
            ),
        ),
    ),
)

FORWARD_PASS = Question(
    title="the forward pass f(2, theta_0)",
    fields=(Field("f", "number", "the network's output at x = 2", "0.5"),),
)

BACKPROP = Question(
    title="the back-propagated gradient of f(2, theta_0)",
    fields=(
        Field(
            "grad_f",
            "numbers",
            f"the 13 partial derivatives of f, {_RELU_ORDER}",
            "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]",
            count=13,
        ),
    ),
)

BOX = Question(
    title="a box of height h on [0, delta) from two step neurons",
    fields=(
        Field(
            "box",
            "expression",
            "the box as a function of x",
            '"h*step(x - delta)"  # (one step only: not a box)',
            Vocabulary(
                names={"x": "the input", "h": "the box height", "delta": "the box width"},
                functions=frozenset({"step", "abs", "max", "min"}),
            ),
        ),
    ),
    notes=("step(t) is the unit step: 1 for t >= 0, 0 for t < 0.",),
)

SUM_OF_BOXES = Question(
    title="approximate f on [-B, B] by a sum of boxes",
    fields=(
        Field(
            "approximation",
            "expression",
            "the approximation as a function of x",
            '"sum_k(f(c_k)*step(x - c_k))"  # (steps, not boxes)',
            Vocabulary(
                names={
                    "x": "the input",
                    "B": "the half-width of the domain [-B, B]",
                    "delta": "the box width",
                    "K": "the number of boxes, 2*B/delta",
                },
                indexed={"c_k": ("the left edge of box k, -B + k*delta", "k")},
                functions=frozenset({"step", "abs", "max", "min"}),
                problem_functions={"f": ("f(t): the function being approximated", 1)},
                reducers=frozenset({"sum_k"}),
            ),
        ),
    ),
    notes=("sum_k(...) sums over the boxes k = 0..K-1, whose left edges are c_k.",),
)

BOX_COUNT = Question(
    title="boxes needed in d dimensions",
    fields=(
        Field(
            "boxes",
            "expression",
            "about how many boxes cover [-B, B]^d",
            '"d*B/delta"  # (a made-up count)',
            Vocabulary(
                names={"B": "the half-width", "delta": "the box width", "d": "the dimension"},
                functions=_MATH,
            ),
        ),
    ),
)

CONCLUSION = Question(
    title="conclusion on universal approximation",
    fields=(Field("conclusion", "text", "your conclusion (read by a TA)", '"""..."""'),),
)

_JACOBIAN_NAMES = {"y": "the softmax output vector", "z": "the input vector", "n": "its length"}

SOFTMAX_JACOBIAN = Question(
    title="the Jacobian of softmax, J_ij = dy_i/dz_j",
    fields=(
        Field(
            "jacobian",
            "expression",
            "the whole Jacobian as a matrix expression in y",
            '"outer(y, z)"  # (some other matrix)',
            Vocabulary(names=_JACOBIAN_NAMES, functions=_MATH | {"diag", "outer"}),
            required=False,
        ),
        Field(
            "jacobian_ij",
            "expression",
            "or: the entry J_ij in terms of y_i, y_j and delta_ij",
            '"y_i*y_j"  # (some other entry)',
            Vocabulary(
                names={"n": "the length of y"},
                indexed={
                    "y_i": ("the i-th softmax output", "i"),
                    "y_j": ("the j-th softmax output", "j"),
                    "z_i": ("the i-th input", "i"),
                    "z_j": ("the j-th input", "j"),
                    "delta_ij": ("1 when i = j, else 0", "ij"),
                },
                functions=_MATH,
                free_indices="ij",
            ),
            required=False,
        ),
    ),
    notes=("Give either `jacobian` or `jacobian_ij`.",),
    one_of=("jacobian", "jacobian_ij"),
)

REPORTED_ACCURACY = Question(
    title="the final test accuracy your notebook reports",
    fields=(
        Field(
            "reported_test_accuracy",
            "number",
            "in percent (85.5 means 85.5 %), as your notebook prints it",
            "12.5",
        ),
    ),
)

_LAYOUTS: Mapping[str, tuple[SectionSpec, ...]] = MappingProxyType(
    {
        "fall2023": (
            SectionSpec("1a", GRADIENT_OF_SQUARED_NORM, ("1a",)),
            SectionSpec("1b", MEAN_MINIMISER, ("1b",)),
            SectionSpec("2a", L1_LOSS, ("2a",)),
            SectionSpec("2b", L1_CLOSED_FORM, ("2b",)),
            SectionSpec("2c", L1_REFLECTION, ("2c",)),
            SectionSpec("3a", RELU_DATASETS, ("3a-1", "3a-2")),
            SectionSpec("3b", LOSS_GRADIENT, ("3b",)),
            SectionSpec("3c", FORWARD_PASS, ("3c",)),
            SectionSpec("3d", BACKPROP, ("3d",)),
        ),
        "spring2023": (
            SectionSpec("1a", L1_LOSS, ("1a",)),
            SectionSpec("1b", L1_CLOSED_FORM, ("1b",)),
            SectionSpec("1c", L1_REFLECTION, ("1c",)),
            SectionSpec("2a", BOX, ("2a",)),
            SectionSpec("2b", SUM_OF_BOXES, ("2b",)),
            SectionSpec("2c", BOX_COUNT, ("2c",)),
            SectionSpec("2d", CONCLUSION, ("2d",)),
            SectionSpec("3", SOFTMAX_JACOBIAN, ("3",)),
            SectionSpec("4", REPORTED_ACCURACY, ("4-reported",)),
        ),
    }
)


def editions() -> tuple[str, ...]:
    return tuple(_LAYOUTS)


def sections(assignment: str) -> tuple[SectionSpec, ...]:
    """The answers.toml sections of one edition, in homework order."""
    try:
        return _LAYOUTS[assignment]
    except KeyError:
        known = ", ".join(_LAYOUTS)
        raise KeyError(f"answers.toml has no layout for {assignment!r}; known: {known}") from None


def section_for_part(assignment: str, part: str) -> SectionSpec | None:
    """The section that feeds manifest part `part`, or None for parts graded from notebooks."""
    for spec in sections(assignment):
        if part in spec.parts:
            return spec
    return None
