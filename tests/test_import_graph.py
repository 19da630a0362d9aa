"""No import circles among the project's modules.

A circle means neither module can be read (or changed) without the other, and
it is what deferred `import` statements inside functions usually hide; so this
walk reads every import in a module, the ones inside functions included, with
`ast` (nothing is imported or run). Edges go to the project's own modules
only; `from pkg import name` counts as an edge to `pkg.name` when that is a
module, else to `pkg`. A package's `__init__` is not implied by importing one
of its modules (Python runs it first, but that order never makes a circle).

Run it alone with `pytest tests/test_import_graph.py`; a failure names each
circle's modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dlgrade", "checks", "reference", "reports", "tests", "benchmarks")

# Circles known and accepted, each as a sorted tuple of module names, with the reason.
# Empty: add one only with a reason a reviewer can check.
KNOWN_CIRCLES: dict[tuple[str, ...], str] = {}


def project_modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported_names(module: str, path: Path) -> Iterator[str]:
    """Every dotted name an import statement in the file reaches, candidates for modules."""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            start = base[: len(base) - node.level + 1] if node.level else []
            source = ".".join([*start, *([node.module] if node.module else [])])
            yield from (f"{source}.{alias.name}" for alias in node.names)


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that `name` is or lies inside; None for other packages."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph = {}
    for module, path in modules.items():
        owners = {_owner(name, modules) for name in _imported_names(module, path)}
        graph[module] = {o for o in owners if o is not None and o != module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Each set of modules that import one another, round (Tarjan's strongly connected
    components of more than one module), as sorted tuples."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[str, ...]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_the_project_has_no_import_circle_but_the_known_ones():
    graph = import_graph(project_modules(ROOT, PACKAGES))
    assert len(graph) > 100, "the walk found too few modules to be looking at the project"
    found = circles(graph)
    unexplained = [c for c in found if c not in KNOWN_CIRCLES]
    assert unexplained == [], "import circles: " + "; ".join(" <-> ".join(c) for c in unexplained)
    # A circle that was broken leaves the list, so the list stays the truth.
    assert [c for c in KNOWN_CIRCLES if c not in found] == []


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_circle_through_an_import_inside_a_function_is_found(tmp_path):
    _write(tmp_path, "pkg/__init__.py", "")
    _write(tmp_path, "pkg/records.py", "def export():\n    from pkg.lms import fmt\n")
    _write(tmp_path, "pkg/lms.py", "from pkg.records import export\nfmt = 1\n")
    _write(tmp_path, "pkg/leaf.py", "import json\nfrom pkg import records\n")
    graph = import_graph(project_modules(tmp_path, ("pkg",)))
    assert graph["pkg.leaf"] == {"pkg.records"}
    assert circles(graph) == [("pkg.lms", "pkg.records")]


def test_relative_imports_and_a_three_module_circle_are_found(tmp_path):
    _write(tmp_path, "pkg/__init__.py", "")
    _write(tmp_path, "pkg/sub/__init__.py", "from .a import x\n")
    _write(tmp_path, "pkg/sub/a.py", "from . import b\nx = 1\n")
    _write(tmp_path, "pkg/sub/b.py", "from ..c import y\n")
    _write(tmp_path, "pkg/c.py", "from pkg.sub.a import x\ny = 2\n")
    graph = import_graph(project_modules(tmp_path, ("pkg",)))
    assert graph["pkg.sub"] == {"pkg.sub.a"}
    assert circles(graph) == [("pkg.c", "pkg.sub.a", "pkg.sub.b")]
