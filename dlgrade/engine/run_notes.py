"""What a notebook run observed, in words: cell text, kernel reports, history and error notes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbformat import NotebookNode

from dlgrade import deep_json
from dlgrade.engine.history import HistoryReport
from dlgrade.records import KERNEL_REPORTS, ObservationKind

MAX_REPORT_BYTES = 1 << 20
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours tracebacks
ERROR_NOTES = {
    "MemoryError": (ObservationKind.MEMORY_LIMIT, "ran out of memory (cap {memory_mb} MB)"),
    "BlockingIOError": (
        ObservationKind.PROCESS_LIMIT,
        "could not start more processes (cap {max_processes})",
    ),
}


def history_notes(history: HistoryReport) -> list[tuple[ObservationKind, str]]:
    notes = [
        (
            ObservationKind.WATCH_ERROR,
            f"the grader's watch {name!r} failed (please report): {error}",
        )
        for name, error in sorted(history.errors.items())
    ]
    notes += [
        (
            ObservationKind.HISTORY_CAPPED,
            f"watch {name!r} reached its size budget; later values were not kept",
        )
        for name in sorted(history.capped)
    ]
    if history.dropped:
        notes.append(
            (
                ObservationKind.HISTORY_INVALID,
                f"{history.dropped} malformed history entries dropped",
            )
        )
    return notes


def first_line(cell: NotebookNode) -> str:
    for line in cell.source.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def cell_text(cell: NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return ANSI.sub("", "".join(parts))


def kernel_reports(path: Path) -> list[tuple[ObservationKind, str]]:
    """Observations the shim wrote: only known kinds, plain short text, capped size."""
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        raw = handle.read(MAX_REPORT_BYTES)
    notes: list[tuple[ObservationKind, str]] = []
    for line in raw.splitlines():
        try:
            entry = deep_json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue  # torn or forged lines carry nothing we need
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("kind"), str)  # a forged list or dict is not hashable
            and entry["kind"] in KERNEL_REPORTS
            and isinstance(entry.get("message"), str)
        ):
            note = (ObservationKind(entry["kind"]), entry["message"][:500])
            if note not in notes:
                notes.append(note)
    return notes


def tail(path: Path, limit: int = 4000) -> str:
    data = path.read_bytes()[-limit:] if path.is_file() else b""
    return data.decode("utf-8", "replace")
