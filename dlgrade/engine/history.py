"""Grader side of the value history: the watches' kernel calls and reading what they kept.

The files come from the untrusted kernel (see _dlgrade_shim.history), so every
entry is validated like a probe value: numeric arrays without pickles, capped
JSON, a total byte cap; anything malformed is dropped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dlgrade.engine.records import Kept, Watch
from dlgrade.engine.values import RefusedValue, load_arrays, load_json

_FILE = re.compile(r"^(\d{6})\.json$")


def check_watches(watches: Sequence[Watch]) -> None:
    """Reject watch sets the engine cannot run (a check-author error, so raise)."""
    names = [w.name for w in watches]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"watch names must be unique; repeated: {repeated}")
    for watch in watches:
        compile(watch.code, f"<watch {watch.name}>", "exec")  # SyntaxError names the watch


def register_call(watches: Sequence[Watch]) -> str:
    """Kernel code registering the watches; it leaves no names behind."""
    calls = ", ".join(
        f"_h.register({w.name!r}, {w.code!r}, {int(w.budget_bytes)})" for w in watches
    )
    return f"(lambda _h: [{calls}])(__import__('_dlgrade_shim.history', fromlist=['register']))"


def after_cell_call(cell_index: int, out_dir: Path) -> str:
    return (
        "__import__('_dlgrade_shim.history', fromlist=['after_cell'])"
        f".after_cell(globals(), {int(cell_index)}, {str(out_dir)!r})"
    )


@dataclass
class HistoryReport:
    """What the watches kept, plus what went wrong on the way (for observations)."""

    kept: dict[str, list[Kept]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    capped: set[str] = field(default_factory=set)
    dropped: int = 0

    def frozen(self) -> MappingProxyType:
        return MappingProxyType({name: tuple(items) for name, items in self.kept.items()})


def read_history(out_dir: Path, watch_names: Sequence[str], max_bytes: int) -> HistoryReport:
    """Every valid entry under `out_dir`/history, in keep order, within `max_bytes` in all."""
    report = HistoryReport()
    folder = out_dir / "history"
    if not folder.is_dir():
        return report
    budget = max_bytes
    for path in sorted(folder.iterdir()):
        match = _FILE.match(path.name)
        if match is None:
            continue
        try:
            record = load_json(path, budget)
            arrays = load_arrays(path.with_suffix(".npz"), budget)
        except RefusedValue:
            report.dropped += 1
            continue
        budget -= path.stat().st_size + sum(a.nbytes for a in arrays.values())
        if budget < 0:
            report.dropped += 1
            break
        _take(record, arrays, int(match.group(1)), set(watch_names), report)
    for items in report.kept.values():
        items.sort(key=lambda k: k.seq)
    return report


def _take(record: dict, arrays: dict, cell: int, names: set[str], report: HistoryReport) -> None:
    for name, error in (record.get("errors") or {}).items():
        if name in names and isinstance(error, str):
            report.errors.setdefault(name, error[:2000])
    report.capped |= {n for n in record.get("capped") or [] if n in names}
    for entry in record.get("entries") or []:
        value = _entry_value(entry, arrays, names)
        if value is _INVALID:
            report.dropped += 1
            continue
        report.kept.setdefault(entry["watch"], []).append(
            Kept(cell_index=cell, key=entry["key"], value=value, seq=entry["seq"])
        )


_INVALID = object()


def _entry_value(entry: Any, arrays: dict, names: set[str]) -> Any:
    if not isinstance(entry, dict) or entry.get("watch") not in names:
        return _INVALID
    key, seq = entry.get("key"), entry.get("seq")
    if not isinstance(key, str) or not key.isidentifier() or not isinstance(seq, int):
        return _INVALID
    if "array" in entry:
        return arrays.get(entry["array"], _INVALID) if isinstance(entry["array"], str) else _INVALID
    return entry.get("value", _INVALID)
