"""What a grading process leaves behind as it goes, for a launcher that may have to stop it.

A student stopped at their time limit (`--timeout`) is killed with their whole
process group, so nothing in the process can report afterwards. As it goes,
the grading plugin appends the parts it will judge and each verdict to
`.parts.jsonl`, and the engine names the notebook cell it is executing in
`.cell.json`; the launcher reads both after the kill (`read_progress`), so
parts judged before keep their verdicts and the rest say which cell was running.

The folder is the grading scratch dir, named by the launcher in
$DLGRADE_PROGRESS; with it unset (`pytest checks` by hand) nothing is written.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.records import CheckResult

ENV = "DLGRADE_PROGRESS"
PARTS_NAME = ".parts.jsonl"  # {"assignment", "parts": [...]} once, then {"result": ...} lines
CELL_NAME = ".cell.json"  # the cell being executed now; absent between notebooks


@dataclass(frozen=True)
class Progress:
    """How far a stopped grading run got."""

    assignment: str
    parts: list[CheckResult]  # every part the run was to judge, in manifest order
    judged: dict[str, CheckResult]  # part -> its verdict, for those judged
    cell: str  # "cell 3 of hw1p5.ipynb (while True: pass)", or "" when none was running


def _folder() -> Path | None:
    named = os.environ.get(ENV)
    return Path(named) if named else None


@contextlib.contextmanager
def recording(folder: Path) -> Iterator[None]:
    """Progress of the grading run inside this block goes to `folder` (cleared first)."""
    clear(folder)
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(folder)  # the environment: the engine reads it, kernels ignore it
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous


def _append(line: dict) -> None:
    folder = _folder()
    if folder is None:
        return
    # One write per line in append mode: a kill leaves at most a torn last line. Progress
    # is a courtesy to the launcher: failing to note it must never stop the grading.
    with contextlib.suppress(OSError), (folder / PARTS_NAME).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def note_parts(assignment: str, parts: list[CheckResult]) -> None:
    """The parts this run will judge (their results' names and maxima; status unused)."""
    _append({"assignment": assignment, "parts": [asdict(p) for p in parts]})


def note_result(result: CheckResult) -> None:
    """A part's verdict; a later line for the same part replaces an earlier one."""
    _append({"result": asdict(result)})


def note_cell(notebook: str, index: int, first_line: str) -> None:
    """The engine is about to execute cell `index` (0-based) of `notebook`."""
    folder = _folder()
    if folder is not None and folder.is_dir():
        data = {"notebook": notebook, "cell": index + 1, "first_line": first_line}
        with contextlib.suppress(OSError):
            write_bytes_atomic(folder / CELL_NAME, json.dumps(data).encode("utf-8"), fsync=False)


def clear_cell() -> None:
    """No student cell is running (the notebook ended)."""
    folder = _folder()
    if folder is not None:
        with contextlib.suppress(OSError):
            (folder / CELL_NAME).unlink(missing_ok=True)


def clear(folder: Path) -> None:
    """Forget an earlier run's progress (the scratch dir may be OUT/<student>/)."""
    for name in (PARTS_NAME, CELL_NAME):
        (folder / name).unlink(missing_ok=True)


def read_progress(folder: Path) -> Progress | None:
    """What the stopped run left in `folder`; None if it never got as far as its parts."""
    assignment, parts, judged = "", None, {}
    with contextlib.suppress(OSError):
        for line in (folder / PARTS_NAME).read_text("utf-8").splitlines():
            try:
                data = json.loads(line)
                if "parts" in data:
                    assignment = str(data["assignment"])
                    parts = [CheckResult(**p) for p in data["parts"]]
                elif "result" in data:
                    result = CheckResult(**data["result"])
                    judged[result.part] = result
            except (ValueError, TypeError, KeyError):
                continue  # the line being written when the process was killed
    if parts is None:
        return None
    return Progress(assignment, parts, judged, _running_cell(folder))


def _running_cell(folder: Path) -> str:
    try:
        data = json.loads((folder / CELL_NAME).read_text("utf-8"))
        where = f"cell {int(data['cell'])} of {data['notebook']}"
    except (OSError, ValueError, TypeError, KeyError):
        return ""
    first = str(data.get("first_line", "")).strip()
    return f"{where} ({first[:80]})" if first else where
