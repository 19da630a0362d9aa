"""Choosing, on purpose, which file to grade when several hold one problem.

Students leave the untouched starter beside their solution, or a draft beside
the final version. The graded file is the more complete one: not the
unmodified starter, defining more of the problem's interface in code that
parses, run (it has outputs), and with more code of its own. The note says
why the others were set aside.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import nbformat

from dlgrade import deep_json
from dlgrade.engine import SourceFile
from dlgrade.engine.cells import binds
from dlgrade.engine.notebooks import MalformedSource, load_notebook, read_text
from dlgrade.engine.resubmissions import lms_name

# Names each notebook problem must define (P5: the starter's fixed interface).
INTERFACE = {
    "p3": ("fsolve", "least_squares", "root", "minimize"),
    "p4": ("model", "optimizer", "criterion", "train_loader", "test_loader"),
    "p5": (
        "weights",
        "biases",
        "feed_forward_sample",
        "feed_forward_dataset",
        "train_one_sample",
        "train_one_epoch",
    ),
}
STARTERS = {"p5": "hw1_prob5_starter.ipynb"}
_COMMENT = re.compile(r"^\s*(#.*)?$")


@dataclass(frozen=True)
class Completeness:
    source: SourceFile
    starter: bool  # the unmodified starter notebook
    interface: int  # interface names bound in cells that parse
    ran: bool  # the file holds outputs of a run
    own_lines: int  # code lines not in the starter

    def key(self) -> tuple:
        return (not self.starter, self.interface, self.ran, self.own_lines, name_rank(self.source))


# Only a tie-break: a name never outweighs completeness, but between equally complete
# files the student's own word ("final", "draft") says which one they meant to hand in.
_FINAL_WORDS = ("final", "submi")  # final, finalversion, submission, submitted
_DRAFT_WORDS = {"draft", "drafts", "old", "copy", "backup", "bak", "scratch"}


def name_rank(source: SourceFile) -> int:
    """1 for a name that says final/submission, -1 for draft/old/copy/backup, else 0."""
    words = [w for w in re.split(r"[^a-z]+", source.path.stem.lower()) if w]
    final = any(w.startswith(_FINAL_WORDS) for w in words)
    draft = any(w in _DRAFT_WORDS for w in words)
    return int(final) - int(draft)


@dataclass(frozen=True)
class Choice:
    chosen: SourceFile
    note: str  # why the others were set aside ("" when there was only one)


def choose(problem: str, sources: list[SourceFile]) -> Choice:
    """The file to grade for `problem` among readable `sources` (at least one).

    A file handed in again and renamed by the LMS (hw1p5-2.ipynb beside
    hw1p5.ipynb) replaces the older hand-ins: only the newest is measured.
    """
    newest, older = newest_hand_ins(sources)
    if len(newest) == 1 and not older:
        return Choice(newest[0], "")
    ranked = sorted(
        (measure(problem, s) for s in sorted(newest, key=lambda s: str(s.path).lower())),
        key=Completeness.key,
        reverse=True,
    )
    best = ranked[0]
    reasons = [f"{other.source.path.name} {_why_not(other, best)}" for other in ranked[1:]]
    reasons += [
        f"{old.path.name} is an older hand-in of {new.path.name} (the LMS numbers each new one)"
        for old, new in older
    ]
    return Choice(best.source, f"graded {best.source.path.name}; set aside: " + "; ".join(reasons))


def newest_hand_ins(
    sources: list[SourceFile],
) -> tuple[list[SourceFile], list[tuple[SourceFile, SourceFile]]]:
    """(the newest of each file an LMS renamed, [(older hand-in, its newest)]), same folder only."""
    groups: dict[tuple, list[SourceFile]] = {}
    for source in sources:
        key = (source.path.parent, lms_name(source.path.name).base.lower())
        groups.setdefault(key, []).append(source)
    newest, older = [], []
    for group in groups.values():
        ordered = sorted(group, key=lambda s: (-lms_name(s.path.name).number, s.path.name))
        newest.append(ordered[0])
        older += [(old, ordered[0]) for old in ordered[1:]]
    return newest, older


def _why_not(other: Completeness, best: Completeness) -> str:
    if other.starter:
        return "is the unmodified starter"
    if other.interface < best.interface:
        return (
            f"defines less of the required interface ({other.interface} vs {best.interface} names)"
        )
    if not other.ran and best.ran:
        return "was never run (no outputs)"
    if other.own_lines < best.own_lines:
        return f"has less code of its own ({other.own_lines} vs {best.own_lines} lines)"
    if name_rank(other.source) < name_rank(best.source):
        return "is no more complete and its name does not say final (the final one was kept)"
    return "is no more complete (the first by name was kept)"


def measure(problem: str, source: SourceFile) -> Completeness:
    try:
        notebook = load_notebook(source.path)
    except (MalformedSource, OSError):
        return Completeness(source, False, 0, False, 0)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    starter_lines = _starter_lines(problem)
    own = [line.strip() for cell in code for line in cell.splitlines() if not _COMMENT.match(line)]
    own_lines = sum(1 for line in own if line not in starter_lines)
    parsed = [cell for cell in code if _parses(cell)]
    interface = sum(1 for name in INTERFACE.get(problem, ()) if any(binds(c, name) for c in parsed))
    return Completeness(
        source=source,
        starter=bool(starter_lines) and own_lines == 0,
        interface=interface,
        ran=_has_outputs(source),
        own_lines=own_lines,
    )


@cache
def _starter_lines(problem: str) -> frozenset[str]:
    name = STARTERS.get(problem)
    if name is None:
        return frozenset()
    text = files("reference.starter").joinpath(name).read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    return frozenset(
        line.strip()
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if not _COMMENT.match(line)
    )


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _has_outputs(source: SourceFile) -> bool:
    if source.kind != "ipynb":
        return False
    try:
        raw = deep_json.loads(read_text(source.path))
    except (MalformedSource, OSError, ValueError, RecursionError):
        return False  # load_notebook read it a moment ago; unreadable now means no outputs
    cells = raw.get("cells") if isinstance(raw, dict) else None
    return any(
        isinstance(c, dict) and c.get("cell_type") == "code" and c.get("outputs")
        for c in cells or []
    )
