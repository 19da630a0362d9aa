"""The answer expression parser: whitelisted syntax is evaluated right, everything else refused."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.answers.errors import AnswerError
from checks.answers.evaluate import Env, evaluate
from checks.answers.language import Vocabulary, parse_expression

VOCABULARY = Vocabulary(
    names={"x": "a vector", "a": "a number", "d": "the length of x"},
    functions=frozenset({"abs", "exp", "sqrt", "sum", "norm", "max", "min", "step"}),
)
X = np.array([0.5, -1.25, 2.0])
A = 1.5
ENV = Env(values={"x": X, "a": A, "d": 3})


def _leaf() -> st.SearchStrategy[tuple[str, np.ndarray]]:
    numbers = st.integers(min_value=0, max_value=9).map(lambda n: (str(n), np.asarray(float(n))))
    return st.one_of(numbers, st.just(("x", X)), st.just(("a", np.asarray(A))))


def _extend(children: st.SearchStrategy) -> st.SearchStrategy[tuple[str, np.ndarray]]:
    """Build (text, value) pairs side by side: the value is the oracle for the evaluator."""
    binary = st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
        lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", _apply(t[0], t[1][1], t[2][1]))
    )
    unary = children.map(lambda c: (f"(-{c[0]})", -c[1]))
    functions = st.tuples(st.sampled_from(["abs", "sum", "step"]), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", _function(t[0], t[1][1]))
    )
    return st.one_of(binary, unary, functions)


def _apply(op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return {"+": np.add, "-": np.subtract, "*": np.multiply}[op](left, right)


def _function(name: str, value: np.ndarray) -> np.ndarray:
    if name == "abs":
        return np.abs(value)
    if name == "sum":
        return np.asarray(np.sum(value))
    return np.where(value >= 0, 1.0, 0.0)


EXPRESSIONS = st.recursive(_leaf(), _extend, max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS)
def test_whitelisted_expressions_evaluate_like_their_oracle(pair):
    text, expected = pair
    found = evaluate(parse_expression(text, VOCABULARY), ENV)
    np.testing.assert_allclose(found, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(EXPRESSIONS)
def test_unparsed_tree_parses_back_to_the_same_tree(pair):
    tree = parse_expression(pair[0], VOCABULARY).tree
    again = parse_expression(ast.unparse(tree), VOCABULARY).tree
    assert ast.dump(again) == ast.dump(tree)


def _parsed_or_refused(text: str) -> None:
    """Either a clear AnswerError, or a tree that mentions only allowed names."""
    try:
        expression = parse_expression(text, VOCABULARY)
    except AnswerError as exc:
        assert str(exc).strip()
        return
    allowed = set(VOCABULARY.names) | VOCABULARY.functions
    used = {node.id for node in ast.walk(expression.tree) if isinstance(node, ast.Name)}
    assert used <= allowed
    assert not any(isinstance(node, ast.Attribute) for node in ast.walk(expression.tree))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_garbage_is_parsed_or_refused_with_answer_error(text):
    _parsed_or_refused(text)


_ALPHABET = st.sampled_from(
    [
        "x",
        "a",
        "d",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "**",
        "@",
        ".",
        "[",
        "]",
        ",",
        "'",
        '"',
        "_",
        "lambda",
        ":",
        "9",
        "__",
        "import",
        "os",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=25).map(" ".join))
def test_token_soup_is_parsed_or_refused_with_answer_error(text):
    _parsed_or_refused(text)


DANGEROUS = [
    "__import__('os').system('touch {marker}')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "open('{marker}', 'w')",
    "eval('1')",
    "exec('import os')",
    "(lambda: 1)()",
    "[c for c in ()]",
    "x[0]",
    "x if a else x",
    "'text'",
    "f'{{x}}'",
    "9**9**9",
    "a**(9**9)",
    "2**1000",
    "1e300",
    "a == a",
    "norm(x, p=1)",
    "norm(*x)",
    "(y := 1)",
    "True",
    "1j",
    "x." + "y" * 3,
    "(" * 200 + "x" + ")" * 200,
    "+".join(["x"] * 300),
    "x ^ 2",
    "2x",
    "",
    "   ",
]


@pytest.mark.parametrize("template", DANGEROUS)
def test_dangerous_or_invalid_input_is_refused(template, tmp_path: Path):
    marker = tmp_path / "was-executed"
    with pytest.raises(AnswerError):
        parse_expression(template.format(marker=marker), VOCABULARY)
    assert not marker.exists()


@pytest.mark.parametrize("value", [None, 3, 2.5, ["2*x"], {"a": 1}])
def test_non_strings_are_refused(value):
    with pytest.raises(AnswerError, match="expected an expression in quotes"):
        parse_expression(value, VOCABULARY)


def test_messages_tell_the_student_what_to_write():
    with pytest.raises(AnswerError, match=r"use \*\* for powers"):
        parse_expression("x^2", VOCABULARY)
    with pytest.raises(AnswerError, match="unknown name 'y'.*a, d, x"):
        parse_expression("2*y", VOCABULARY)
    with pytest.raises(AnswerError, match="unknown function 'f'"):
        parse_expression("f(x)", VOCABULARY)
    with pytest.raises(AnswerError, match=r"norm\(\.\.\.\) takes 1 or 2"):
        parse_expression("norm()", VOCABULARY)


def test_indexed_names_only_inside_their_sum():
    vocabulary = Vocabulary(
        names={"n": "count"},
        indexed={"x_i": ("the i-th point", "i")},
        reducers=frozenset({"sum_i"}),
    )
    with pytest.raises(AnswerError, match=r"x_i only has a meaning inside sum_i\(\.\.\.\)"):
        parse_expression("x_i/n", vocabulary)
    with pytest.raises(AnswerError, match="cannot be nested"):
        parse_expression("sum_i(sum_i(x_i))", vocabulary)
    points = np.array([[1.0, 2.0], [3.0, 6.0]])
    env = Env(values={"n": 2}, families={"x_i": points}, ranges={"i": 2})
    np.testing.assert_allclose(evaluate(parse_expression("sum_i(x_i)/n", vocabulary), env), [2, 4])


def test_shape_mismatch_is_an_answer_error_not_broadcasting():
    vocabulary = Vocabulary(names={"x": "vector", "M": "matrix"})
    env = Env(values={"x": np.ones(3), "M": np.ones((3, 3))})
    with pytest.raises(AnswerError, match="cannot combine a vector of length 3 and a 3x3 matrix"):
        evaluate(parse_expression("x + M", vocabulary), env)
    with pytest.raises(AnswerError, match="sizes differ"):
        evaluate(
            parse_expression("M @ x", vocabulary),
            Env(values={"x": np.ones(2), "M": env.values["M"]}),
        )
