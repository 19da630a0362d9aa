"""The visible part of an edition: its manifest without hidden parts, checks without theirs."""

from __future__ import annotations

import ast
import json

from reference.manifest import Assignment, Part


def hidden_ids(assignment: Assignment) -> tuple[str, ...]:
    return tuple(p.id for p in assignment.parts if p.visibility != "visible")


def visible_manifest(assignment: Assignment) -> str:
    """The manifest's TOML with the visible parts only (points, grading and settings kept)."""
    lines = [
        f"# {assignment.id}: the parts students see (built by `dlgrade bundle student`).",
        f"id = {_string(assignment.id)}",
        f"title = {_string(assignment.title)}",
    ]
    for part in assignment.parts:
        if part.visibility == "visible":
            lines += ["", *_part_lines(part)]
    return "\n".join(lines) + "\n"


def _part_lines(part: Part) -> list[str]:
    lines = [
        "[[parts]]",
        f"id = {_string(part.id)}",
        f"problem = {_string(part.problem)}",
        f"title = {_string(part.title)}",
        f"points = {part.points!r}",
        f"grading = {_string(part.grading)}",
    ]
    if part.settings:
        table = ", ".join(f"{name} = {value!r}" for name, value in part.settings)
        lines.append(f"settings = {{ {table} }}")
    return lines


def _string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def without_hidden_checks(source: str, assignment_id: str, hidden: tuple[str, ...]) -> str:
    """`source` with every check that grades a hidden part of `assignment_id` cut out.

    A check names its part with `@pytest.mark.part("id")` (every edition) or
    `@pytest.mark.part(fall2023="id", ...)`; the whole function goes, decorators included,
    and so do comment lines that name a hidden part.
    """
    if not hidden:
        return source
    lines = source.splitlines(keepends=True)
    cuts = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and _grades(node, assignment_id, set(hidden)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            cuts.append((first - 1, node.end_lineno))
    for start, end in reversed(cuts):
        del lines[start:end]
    # A comment naming a hidden part (a section heading) would tell that it exists.
    return "".join(
        line
        for line in lines
        if not (line.lstrip().startswith("#") and any(h in line for h in hidden))
    )


def _grades(node: ast.FunctionDef, assignment_id: str, hidden: set[str]) -> bool:
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith(".part")):
            continue
        named = [a.value for a in decorator.args if isinstance(a, ast.Constant)]
        named += [
            k.value.value
            for k in decorator.keywords
            if k.arg == assignment_id and isinstance(k.value, ast.Constant)
        ]
        if hidden & set(named):
            return True
    return False
