"""The source of a stand-in module: shared names by value, tabled and refusing functions.

The stand-in has the real module's public names, so every check imports as in
the grader; what each name does there follows its `ModulePolicy`.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import typing
from types import ModuleType

import numpy as np

from dlgrade.bundle import plumbing
from dlgrade.bundle.policy import ModulePolicy

HEADER = '''"""Stand-in for {real} in the student bundle: it holds no reference solution.

Built by `dlgrade bundle student`. {how}
"""

from __future__ import annotations

import typing  # noqa: F401 (shared type aliases are written as typing.X)
from dataclasses import dataclass  # noqa: F401 (shared record types)

import numpy as np  # noqa: F401

from checks.offline import ReferenceTable, withheld

_TABLE = ReferenceTable.load({short!r})
_WITHHELD = {withheld!r}
'''
HOW = (
    "Functions answer the calls on the fixed inputs the checks use, from a table the real "
    "reference computed; any other call, and any constant not stated by the assignment, "
    "is checked by the TA."
)
STUB = '''

def {name}(*args, **kwargs):
    """Served from the table on the checks' fixed inputs; otherwise checked by the TA."""
    return _TABLE.serve({name!r}, args, kwargs)
'''
GETATTR = """

def __getattr__(name: str):
    if name in _WITHHELD:
        raise withheld({short!r}, name)
    raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
"""


def standin_source(module: ModuleType, short: str, policy: ModulePolicy) -> str:
    """Python source of the stand-in for `module` (imported as `<package>.<short>`)."""
    names = public_names(module)
    unknown = sorted(set(policy.shared + policy.tabled + policy.own) - set(names))
    if unknown:
        raise ValueError(f"{module.__name__} has no public {', '.join(unknown)}")
    constants = [n for n in names if not _is_code(getattr(module, n))]
    withheld = tuple(n for n in constants if n not in policy.shared)
    parts = [
        HEADER.format(real=module.__name__, how=HOW, short=short, withheld=withheld),
    ]
    for name in policy.shared:
        parts.append("\n\n" + shared_definition(name, getattr(module, name)))
    for name in policy.own:
        parts.append("\n\n" + inspect.getsource(getattr(plumbing, name)))
    for name in names:
        if _is_code(getattr(module, name)) and name not in policy.shared + policy.own:
            parts.append(STUB.format(name=name))
    parts.append(GETATTR.format(short=short))
    return "".join(parts)


def public_names(module: ModuleType) -> list[str]:
    """Names a check may import: what the module itself defines or assigns at top level."""
    tree = ast.parse(inspect.getsource(module))
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in dict.fromkeys(names) if not n.startswith("_")]


def shared_definition(name: str, value: object) -> str:
    """`NAME = literal` for a constant, or a record type rebuilt from its fields."""
    if dataclasses.is_dataclass(value) and inspect.isclass(value):
        return record_source(value)
    if inspect.isclass(value):
        raise TypeError(f"{name}: only dataclasses can be shared")
    return f"{name} = {literal(value)}\n"


def record_source(record: type) -> str:
    """A dataclass with `record`'s fields and none of its methods' code; the methods checks
    call come from `plumbing.<Name>Methods`, written here first."""
    mixin = getattr(plumbing, f"{record.__name__}Methods", None)
    lines = [inspect.getsource(mixin) + "\n\n"] if mixin is not None else []
    params = record.__dataclass_params__  # type: ignore[attr-defined]
    lines.append(f"@dataclass(frozen={params.frozen})\n")
    lines.append(f"class {record.__name__}{f'({mixin.__name__})' if mixin else ''}:\n")
    lines.append(f"    {literal(inspect.getdoc(record) or record.__name__)}\n\n")
    for field in dataclasses.fields(record):
        default = "" if field.default is dataclasses.MISSING else f" = {literal(field.default)}"
        lines.append(f"    {field.name}: {field.type}{default}\n")
    return "".join(lines)


def literal(value: object) -> str:
    """Source text that rebuilds `value` (numbers, strings, tuples, arrays, dataclasses)."""
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r}, dtype=np.{value.dtype.name})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(
            f"{f.name}={literal(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__name__}({fields})"
    if isinstance(value, tuple):
        return "(" + "".join(f"{literal(v)}, " for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if typing.get_origin(value) is typing.Literal:
        return repr(value)  # typing.Literal['a', 'b']
    if isinstance(value, bool | int | float | str) or value is None:
        return repr(value)
    raise TypeError(f"cannot write a {type(value).__name__} into a stand-in module")


def _is_code(value: object) -> bool:
    return inspect.isfunction(value) or inspect.isclass(value)
