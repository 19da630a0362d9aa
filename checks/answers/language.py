"""The answer expression language: a small, whitelisted subset of Python syntax.

Student text is untrusted. It is parsed with `ast.parse(mode="eval")` and
every node is checked against a whitelist: numbers, the names the question
defines, `+ - * / ** @`, unary minus, and calls to known functions by plain
name. Nothing is ever executed: `checks.answers.evaluate` walks the checked
tree itself. Size limits keep parsing and evaluation cheap (no `9**9**9`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from checks.answers.errors import AnswerError

MAX_CHARS = 400
MAX_NODES = 200
MAX_DEPTH = 30
MAX_LITERAL = 1e6
MAX_EXPONENT = 64

# Functions every question may allow: name -> (fewest, most) arguments.
FUNCTIONS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "abs": (1, 1),
        "sqrt": (1, 1),
        "exp": (1, 1),
        "log": (1, 1),
        "sum": (1, 1),
        "norm": (1, 2),
        "diag": (1, 1),
        "outer": (2, 2),
        "step": (1, 1),
        "max": (2, 2),
        "min": (2, 2),
    }
)

# Reducers bind an index letter inside their single argument.
REDUCERS: Mapping[str, str] = MappingProxyType({"sum_i": "i", "mean_i": "i", "sum_k": "k"})

_BINARY = frozenset({ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult})

# Constructs students are likely to try, with the message that helps them.
_FORBIDDEN: Mapping[type, str] = MappingProxyType(
    {
        ast.Attribute: "attribute access with '.' is not allowed",
        ast.Subscript: "indexing with [...] is not allowed; use the indexed names (such as x_i)",
        ast.Lambda: "lambda is not allowed",
        ast.Compare: "comparisons are not allowed",
        ast.BoolOp: "'and'/'or' are not allowed",
        ast.IfExp: "'if ... else' is not allowed",
        ast.Tuple: "tuples are not allowed",
        ast.List: "lists are not allowed",
        ast.Dict: "dictionaries are not allowed",
        ast.Set: "sets are not allowed",
        ast.ListComp: "comprehensions are not allowed",
        ast.SetComp: "comprehensions are not allowed",
        ast.DictComp: "comprehensions are not allowed",
        ast.GeneratorExp: "comprehensions are not allowed",
        ast.JoinedStr: "strings are not allowed",
        ast.NamedExpr: "':=' is not allowed",
        ast.Starred: "'*args' is not allowed",
        ast.Await: "'await' is not allowed",
        ast.Yield: "'yield' is not allowed",
        ast.YieldFrom: "'yield' is not allowed",
        ast.Slice: "slices are not allowed",
    }
)


@dataclass(frozen=True)
class Vocabulary:
    """What one answer may mention.

    `names` maps each free name to its meaning (shown in the template);
    `indexed` maps indexed names (x_i, delta_ij) to their meaning and the
    index letters that must be bound where they appear, by a reducer or by
    `free_indices` (for answers written entry by entry, such as J_ij);
    `functions` lists the catalogue functions allowed; `problem_functions`
    maps problem-given functions (f, grad_f) to their meaning and arity.
    """

    names: Mapping[str, str] = field(default_factory=dict)
    indexed: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()
    problem_functions: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    reducers: frozenset[str] = frozenset()
    free_indices: str = ""

    def __post_init__(self) -> None:
        unknown = (self.functions - FUNCTIONS.keys()) | (self.reducers - REDUCERS.keys())
        if unknown:
            raise ValueError(f"vocabulary names unknown functions: {sorted(unknown)}")

    def callables(self) -> list[str]:
        return sorted(self.functions | self.reducers | self.problem_functions.keys())


@dataclass(frozen=True)
class Expression:
    """A checked expression: the student's text and its whitelisted syntax tree."""

    text: str
    tree: ast.expr
    vocabulary: Vocabulary


def parse_expression(text: object, vocabulary: Vocabulary, *, what: str = "answer") -> Expression:
    """Parse and check `text`; raise `AnswerError` saying what is wrong and how to write it."""
    if not isinstance(text, str):
        raise AnswerError(f"{what}: expected an expression in quotes, found {text!r}")
    source = text.strip()
    if not source:
        raise AnswerError(f"{what}: the expression is empty")
    if len(source) > MAX_CHARS:
        raise AnswerError(f"{what}: the expression is longer than {MAX_CHARS} characters")
    if "^" in source:
        raise AnswerError(f"{what}: use ** for powers (x**2), not ^")
    tree = _syntax_tree(source, what)
    _Checker(vocabulary, what).check(tree.body)
    return Expression(source, tree.body, vocabulary)


def _syntax_tree(source: str, what: str) -> ast.Expression:
    try:
        return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        column = f" near column {exc.offset}" if exc.offset else ""
        raise AnswerError(
            f"{what}: {source!r} is not a valid expression{column} "
            "(write products with *, e.g. 2*x, and close every parenthesis)"
        ) from exc
    except (RecursionError, MemoryError, ValueError) as exc:
        raise AnswerError(f"{what}: {source!r} is too deeply nested or malformed") from exc


class _Checker:
    """Walks a syntax tree once, rejecting anything outside the whitelist."""

    def __init__(self, vocabulary: Vocabulary, what: str) -> None:
        self.vocabulary = vocabulary
        self.what = what
        self.nodes = 0

    def fail(self, reason: str) -> AnswerError:
        return AnswerError(f"{self.what}: {reason}")

    def check(self, node: ast.expr) -> None:
        self.visit(node, bound=self.vocabulary.free_indices, depth=0)

    def visit(self, node: ast.AST, bound: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"the expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            self.name(node, bound)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise self.fail("only unary minus and plus are allowed")
            self.visit(node.operand, bound, depth + 1)
        elif isinstance(node, ast.BinOp):
            self.binary(node, bound, depth)
        elif isinstance(node, ast.Call):
            self.call(node, bound, depth)
        else:
            reason = _FORBIDDEN.get(type(node), f"'{type(node).__name__}' is not allowed")
            raise self.fail(reason)

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"only numbers may appear as constants, found {value!r}")
        if abs(value) > MAX_LITERAL:
            raise self.fail(f"numbers larger than {MAX_LITERAL:g} are not allowed")

    def name(self, node: ast.Name, bound: str) -> None:
        vocabulary = self.vocabulary
        if node.id in vocabulary.names:
            return
        if node.id in vocabulary.indexed:
            letters = vocabulary.indexed[node.id][1]
            missing = [letter for letter in letters if letter not in bound]
            if missing:
                reducers = [
                    f"{r}(...)" for r in sorted(vocabulary.reducers) if REDUCERS[r] in missing
                ]
                inside = " or ".join(reducers) or "a sum over its index"
                raise self.fail(f"{node.id} only has a meaning inside {inside}")
            return
        if node.id in vocabulary.callables() or node.id in FUNCTIONS:
            raise self.fail(f"{node.id} is a function: call it, e.g. {node.id}(...)")
        allowed = ", ".join(sorted([*vocabulary.names, *vocabulary.indexed])) or "none"
        raise self.fail(f"unknown name {node.id!r}; the names you may use here are: {allowed}")

    def binary(self, node: ast.BinOp, bound: str, depth: int) -> None:
        if type(node.op) not in _BINARY:
            raise self.fail("only + - * / ** @ are allowed between terms")
        if isinstance(node.op, ast.Pow):
            self.exponent(node.right)
        self.visit(node.left, bound, depth + 1)
        self.visit(node.right, bound, depth + 1)

    def exponent(self, node: ast.expr) -> None:
        """Exponents are a small number or a plain name, so no power tower can explode."""
        inner = node.operand if isinstance(node, ast.UnaryOp) else node
        if isinstance(inner, ast.Constant) and isinstance(inner.value, int | float):
            if abs(inner.value) > MAX_EXPONENT:
                raise self.fail(f"exponents larger than {MAX_EXPONENT} are not allowed")
            return
        if isinstance(inner, ast.Name) and inner.id in self.vocabulary.names:
            return
        raise self.fail("an exponent must be a number or a single name, e.g. x**2 or (B/delta)**d")

    def call(self, node: ast.Call, bound: str, depth: int) -> None:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only functions called by name are allowed, e.g. norm(x)")
        name = node.func.id
        if node.keywords:
            raise self.fail(f"{name}(...) takes no keyword arguments")
        low, high = self.arity(name)
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} or {high}"
            raise self.fail(f"{name}(...) takes {count} argument(s), found {len(node.args)}")
        if name in REDUCERS:
            letter = REDUCERS[name]
            if letter in bound:
                raise self.fail(f"{name}(...) cannot be nested inside another sum over {letter}")
            bound = bound + letter
        if name == "norm" and len(node.args) == 2:
            order = node.args[1]
            if not (isinstance(order, ast.Constant) and order.value in (1, 2)):
                raise self.fail("norm(v, p) accepts p = 1 or p = 2")
        for argument in node.args:
            self.visit(argument, bound, depth + 1)

    def arity(self, name: str) -> tuple[int, int]:
        vocabulary = self.vocabulary
        if name in vocabulary.functions:
            return FUNCTIONS[name]
        if name in vocabulary.reducers:
            return (1, 1)
        if name in vocabulary.problem_functions:
            count = vocabulary.problem_functions[name][1]
            return (count, count)
        allowed = ", ".join(vocabulary.callables()) or "none"
        raise self.fail(f"unknown function {name!r}; the functions you may use here are: {allowed}")
