"""Evaluate a checked expression with numpy (numbers) or sympy (symbols).

The walker only understands the node types `checks.answers.language` lets
through. Semantics follow numpy: `*` and `/` are entry-wise (or scale by a
number), `@` is the matrix product, vectors have no orientation. Shapes must
match exactly or one side must be a number: no silent broadcasting.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
import sympy

from checks.answers.errors import AnswerError
from checks.answers.language import REDUCERS, Expression
from checks.scoring import describe_shape


class EvaluationError(AnswerError):
    """The expression is well formed but meaningless for these inputs (shapes, arity)."""


class SymbolicUnavailable(Exception):
    """The expression uses something that has no sympy form here (e.g. f, step on matrices)."""


@dataclass(frozen=True)
class Env:
    """Values for one evaluation.

    `families` hold indexed names as nested sequences indexed by their letters
    (x_i -> points[i], delta_ij -> eye[i][j]); `ranges` give each letter's
    count; `functions` implement the problem functions (f, grad_f).
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    families: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, int] = field(default_factory=dict)
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    bound: Mapping[str, int] = field(default_factory=dict)

    def bind(self, letter: str, index: int) -> Env:
        return replace(self, bound={**self.bound, letter: index})


class Backend(Protocol):
    def constant(self, value: float) -> Any: ...
    def value(self, value: Any) -> Any: ...
    def shape(self, value: Any) -> tuple[int, ...]: ...
    def binary(self, op: str, left: Any, right: Any) -> Any: ...
    def negate(self, value: Any) -> Any: ...
    def call(self, name: str, args: list[Any]) -> Any: ...
    def call_problem(self, function: Callable[..., Any], name: str, args: list[Any]) -> Any: ...


def evaluate(expression: Expression, env: Env, backend: Backend | None = None) -> Any:
    """The value of `expression` in `env` (numpy arrays unless a backend says otherwise)."""
    letters = {name: spec[1] for name, spec in expression.vocabulary.indexed.items()}
    walker = _Walker(backend or NumpyBackend(), letters)
    with np.errstate(all="ignore"):  # overflow becomes inf, which the judge reports
        return walker.walk(expression.tree, env)


def tabulate(expression: Expression, env: Env, letters: str) -> np.ndarray:
    """Evaluate an entry-wise answer (such as J_ij) for every index, as an array."""
    counts = [env.ranges[letter] for letter in letters]
    table = np.empty(counts)
    for index in np.ndindex(*counts):
        bound = env
        for letter, position in zip(letters, index, strict=True):
            bound = bound.bind(letter, position)
        entry = evaluate(expression, bound)
        if np.ndim(entry) != 0:
            raise EvaluationError(
                f"each entry must be a number, found {describe_shape(np.shape(entry))}"
            )
        table[index] = entry
    return table


class _Walker:
    def __init__(self, backend: Backend, indexed: Mapping[str, str]) -> None:
        self.backend = backend
        self.indexed = indexed  # indexed name -> its index letters

    def walk(self, node: ast.expr, env: Env) -> Any:
        backend = self.backend
        if isinstance(node, ast.Constant):
            return backend.constant(node.value)
        if isinstance(node, ast.Name):
            return backend.value(self.lookup(node.id, env))
        if isinstance(node, ast.UnaryOp):
            operand = self.walk(node.operand, env)
            return backend.negate(operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            op = _OPERATORS[type(node.op)]
            return backend.binary(op, self.walk(node.left, env), self.walk(node.right, env))
        if isinstance(node, ast.Call):
            return self.call(node, env)
        raise TypeError(f"unchecked node {type(node).__name__} reached the evaluator")

    def lookup(self, name: str, env: Env) -> Any:
        if name not in self.indexed:
            if name not in env.values:
                raise LookupError(f"the harness gave no value for {name!r}")
            return env.values[name]
        value = env.families[name]
        for letter in self.indexed[name]:
            value = value[env.bound[letter]]
        return value

    def call(self, node: ast.Call, env: Env) -> Any:
        name = node.func.id  # type: ignore[attr-defined]  # the checker allows only names
        if name in REDUCERS:
            return self.reduce(name, node.args[0], env)
        args = [self.walk(argument, env) for argument in node.args]
        if name in env.functions:
            return self.backend.call_problem(env.functions[name], name, args)
        return self.backend.call(name, args)

    def reduce(self, name: str, body: ast.expr, env: Env) -> Any:
        letter = REDUCERS[name]
        count = env.ranges[letter]
        total = None
        for index in range(count):
            term = self.walk(body, env.bind(letter, index))
            total = term if total is None else self.backend.binary("+", total, term)
        if total is None:
            raise EvaluationError(f"{name}(...) runs over no terms")
        if name.startswith("mean"):
            total = self.backend.binary("/", total, self.backend.constant(count))
        return total


_OPERATORS: Mapping[type, str] = MappingProxyType(
    {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
)


def _check_operands(op: str, left: tuple[int, ...], right: tuple[int, ...]) -> None:
    """Entry-wise operators need equal shapes or a number on one side; @ needs matching sizes."""
    if op == "@":
        if not left or not right:
            raise EvaluationError("@ multiplies vectors and matrices; use * with a number")
        if left[-1] != right[0]:
            raise EvaluationError(
                f"cannot multiply {describe_shape(left)} @ {describe_shape(right)}: sizes differ"
            )
        return
    if op == "**" and right:
        raise EvaluationError("an exponent must be a number, not a vector or matrix")
    if left and right and left != right:
        raise EvaluationError(
            f"cannot combine {describe_shape(left)} and {describe_shape(right)} with {op}"
        )


class NumpyBackend:
    """Values are float64 numpy arrays (0-d for numbers)."""

    def constant(self, value: float) -> np.ndarray:
        return np.asarray(float(value))

    def value(self, value: Any) -> np.ndarray:
        return np.asarray(value, dtype=float)

    def shape(self, value: np.ndarray) -> tuple[int, ...]:
        return tuple(np.shape(value))

    def binary(self, op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        _check_operands(op, self.shape(left), self.shape(right))
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            return left / right
        if op == "**":
            return np.power(left, right)
        return np.asarray(left @ right)

    def negate(self, value: np.ndarray) -> np.ndarray:
        return -value

    def call(self, name: str, args: list[np.ndarray]) -> np.ndarray:
        first = args[0]
        if name in _NUMPY_ELEMENTWISE:
            return _NUMPY_ELEMENTWISE[name](first)
        if name in ("max", "min"):
            _check_operands(name, self.shape(first), self.shape(args[1]))
            return (np.maximum if name == "max" else np.minimum)(first, args[1])
        if name == "sum":
            return np.asarray(np.sum(first))
        if name == "norm":
            order = int(args[1]) if len(args) == 2 else 2
            return np.asarray(np.linalg.norm(np.ravel(first), order))
        if name == "diag":
            if first.ndim != 1:
                raise EvaluationError(
                    f"diag(v) needs a vector, found {describe_shape(first.shape)}"
                )
            return np.diag(first)
        if name == "outer":
            if first.ndim != 1 or args[1].ndim != 1:
                raise EvaluationError("outer(a, b) needs two vectors")
            return np.outer(first, args[1])
        raise LookupError(f"no numpy implementation for {name!r}")

    def call_problem(self, function: Callable[..., Any], name: str, args: list[Any]) -> np.ndarray:
        return np.asarray(function(*args), dtype=float)


_NUMPY_ELEMENTWISE: Mapping[str, Callable[[np.ndarray], np.ndarray]] = MappingProxyType(
    {
        "abs": np.abs,
        "sqrt": np.sqrt,
        "exp": np.exp,
        "log": np.log,
        "step": lambda v: np.where(v >= 0, 1.0, 0.0),  # unit step, step(0) = 1
    }
)


class SympyBackend:
    """Values are sympy expressions (numbers) or column matrices (vectors) and matrices."""

    def constant(self, value: float) -> sympy.Expr:
        return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(repr(value))

    def value(self, value: Any) -> Any:
        return value

    def shape(self, value: Any) -> tuple[int, ...]:
        if isinstance(value, sympy.MatrixBase):
            rows, cols = value.shape
            return (rows,) if cols == 1 else (rows, cols)
        return ()

    def binary(self, op: str, left: Any, right: Any) -> Any:
        left_shape, right_shape = self.shape(left), self.shape(right)
        _check_operands(op, left_shape, right_shape)
        if op == "@":
            if len(left_shape) == 1 and len(right_shape) == 1:
                return (left.T * right)[0, 0]
            if len(left_shape) == 1:
                return (left.T * right).T
            return left * right
        if left_shape and right_shape:
            return sympy.Matrix(
                left.rows, left.cols, lambda r, c: _scalar(op, left[r, c], right[r, c])
            )
        if left_shape:
            return left.applyfunc(lambda entry: _scalar(op, entry, right))
        if right_shape:
            return right.applyfunc(lambda entry: _scalar(op, left, entry))
        return _scalar(op, left, right)

    def negate(self, value: Any) -> Any:
        return -value

    def call(self, name: str, args: list[Any]) -> Any:
        first = args[0]
        shape = self.shape(first)
        if name in _SYMPY_ELEMENTWISE:
            function = _SYMPY_ELEMENTWISE[name]
            return first.applyfunc(function) if shape else function(first)
        if name in ("max", "min") and not shape and not self.shape(args[1]):
            return (sympy.Max if name == "max" else sympy.Min)(first, args[1])
        if name == "sum":
            return sum(first) if shape else first
        if name == "norm":
            entries = list(first) if shape else [first]
            if len(args) == 2 and args[1] == 1:
                return sum(sympy.Abs(e) for e in entries)
            return sympy.sqrt(sum(e**2 for e in entries))
        if name == "diag" and len(shape) == 1:
            return sympy.diag(*list(first))
        if name == "outer" and len(shape) == 1 and len(self.shape(args[1])) == 1:
            return first * args[1].T
        raise SymbolicUnavailable(f"{name}(...) has no symbolic form for these arguments")

    def call_problem(self, function: Callable[..., Any], name: str, args: list[Any]) -> Any:
        raise SymbolicUnavailable(f"{name}(...) is only evaluated numerically")


def _scalar(op: str, left: Any, right: Any) -> Any:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    return left**right


_SYMPY_ELEMENTWISE: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {
        "abs": sympy.Abs,
        "sqrt": sympy.sqrt,
        "exp": sympy.exp,
        "log": sympy.log,
        "step": lambda v: sympy.Heaviside(v, 1),
    }
)
