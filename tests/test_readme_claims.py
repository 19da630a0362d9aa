"""The README's "How grading stays honest" and "Performance" point at real tests and benchmarks.

Each claim there names the test or benchmark that backs it; a renamed or
deleted test would leave the claim pointing at nothing, so this reads the two
sections and checks that every file they name exists and every test function
they name (`tests/x.py::test_y`, or `::test_y` after a row that named the file)
is defined in that file. Also here: the one claim no other test covered, that a
student's page names the isolation mode.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from dlgrade.records import CheckResult, GradeRecord
from reports.render import render_student

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("How grading stays honest", "Performance")
SPAN = re.compile(r"`([^`]+)`")
PATH = re.compile(r"(?:tests|benchmarks|ci|reference|checks|dlgrade)/[\w/.-]+\.(?:py|sh)")
NAME = re.compile(r"::(\w+)")


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def pointers(text: str) -> list[tuple[str, str]]:
    """(file, test name or "") for each file a backquoted span names (a command's script
    too), with its `::name` if any; a bare `::name` takes the last file named."""
    found, last = [], ""
    for span in SPAN.findall(text):
        paths, name = PATH.findall(span), NAME.search(span)
        if not paths and name is None:
            continue
        last = paths[0] if paths else last
        found.append((last, name.group(1) if name else ""))
        found.extend((path, "") for path in paths[1:])
    return found


def broken(root: Path, found: list[tuple[str, str]]) -> list[str]:
    problems = []
    for path, name in found:
        file = root / path
        if not path or not file.is_file():
            problems.append(f"{path or '(no file)'}::{name}: no such file")
            continue
        if name:
            tree = ast.parse(file.read_text("utf-8"))
            defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            if name not in defined:
                problems.append(f"{path}::{name}: no such test")
    return problems


def test_every_test_and_benchmark_the_two_sections_name_exists():
    readme = (ROOT / "README.md").read_text("utf-8")
    found = [p for title in SECTIONS for p in pointers(section(readme, title))]
    named_tests = {(path, name) for path, name in found if name}
    assert len(found) >= 40 and len(named_tests) >= 15, "the sections name too few pointers"
    assert broken(ROOT, found) == []


def test_a_pointer_to_a_missing_test_or_file_is_caught(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_real():\n    pass\n")
    text = (
        "shown by `tests/test_a.py::test_real`, then `::test_gone`; "
        "`python benchmarks/nothing.py --quick` and `tests/test_a.py`"
    )
    found = pointers(text)
    assert found == [
        ("tests/test_a.py", "test_real"),
        ("tests/test_a.py", "test_gone"),
        ("benchmarks/nothing.py", ""),
        ("tests/test_a.py", ""),
    ]
    assert broken(tmp_path, found) == [
        "tests/test_a.py::test_gone: no such test",
        "benchmarks/nothing.py::: no such file",
    ]


def test_the_students_page_names_the_isolation_mode():
    result = CheckResult("1a", "a part", 1.0, 1.0, "passed")
    for mode in ("bubblewrap", "user: uid 61234, seccomp"):
        record = GradeRecord("ann", "fall2023", [result], isolation=mode)
        assert f"isolation: {mode}" in render_student(record)
