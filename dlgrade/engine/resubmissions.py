"""Files an LMS renamed: `answers-1.toml`, `hw1p4 (2).ipynb`, `LATE_answers.toml`.

Canvas appends `-1`, `-2`, ... to the name of a file handed in again; browsers
and dlgrade's own intake (`dlgrade.intake.unpack.free_name`) append ` (2)`;
some exports put `LATE_` in front. `lms_name` undoes that: the name the
student gave the file, and which hand-in it is (the highest number is the
newest). Modification times say nothing here: unpacking and copying reset
them, so the names are the only record of the order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dlgrade.engine.paths import hand_in_files

ANSWERS_FILE = "answers.toml"
_NUMBERED = re.compile(r"^(?P<stem>.*?\S)(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))$")
_LATE = re.compile(r"^late_", re.IGNORECASE)
_SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "__MACOSX", ".git"}


@dataclass(frozen=True)
class LmsName:
    base: str  # the name the student gave the file: "answers.toml"
    number: int  # 0 for the first hand-in, n for the one the LMS numbered n


def lms_name(name: str) -> LmsName:
    """LmsName('answers.toml', 1) for 'answers-1.toml'; names an LMS did not touch keep 0."""
    path = PurePosixPath(_LATE.sub("", name))
    match = _NUMBERED.match(path.stem)
    if match is None:
        return LmsName(path.name, 0)
    return LmsName(match["stem"] + path.suffix, int(match["dash"] or match["paren"]))


def same_file(name: str, base: str) -> bool:
    """Whether `name` is `base` as an LMS may have renamed it (case aside)."""
    return lms_name(name).base.lower() == base.lower()


@dataclass(frozen=True)
class AnswersChoice:
    path: Path | None  # the answers file graded (None: the submission has none)
    note: str = ""  # which was graded and why the others were set aside ("" when one)


def find_answers(folder: Path) -> AnswersChoice:
    """The submission's answers file, whatever the LMS renamed it to (see `choose_answers`).

    Only regular files are candidates (no link is followed); when none is at the top,
    a link there named like one is returned, so that loading it names the link.
    """
    files, links = hand_in_files(folder)
    choice = choose_answers(folder, files)
    at_top = choice.path is not None and choice.path.parent == folder
    linked = [folder / link.name for link in links if same_file(link.name, ANSWERS_FILE)]
    return AnswersChoice(linked[0]) if linked and not at_top else choice


def choose_answers(folder: Path, files: Iterable[Path]) -> AnswersChoice:
    """Among `files` (paths below `folder`), the answers file to grade.

    The shallowest wins (the top of the submission before a sub-folder), and
    among files side by side the newest hand-in. Callers that vet files
    first (links, say) pass only the ones they accept.
    """
    found = [
        path
        for path in files
        if same_file(path.name, ANSWERS_FILE)
        and not _SKIP_DIRS & set(path.relative_to(folder).parts)
    ]
    if not found:
        return AnswersChoice(None)
    ranked = sorted(found, key=lambda p: _rank(p, folder))
    chosen, others = ranked[0], ranked[1:]
    if not others:
        return AnswersChoice(chosen)

    def why(other: Path) -> str:
        if len(other.parts) > len(chosen.parts):
            return "is in a sub-folder"
        return "is an older hand-in (the LMS numbers each new one)"

    shown = [f"{o.relative_to(folder).as_posix()} {why(o)}" for o in others]
    note = f"graded {chosen.relative_to(folder).as_posix()}; set aside: " + "; ".join(shown)
    return AnswersChoice(chosen, note)


def _rank(path: Path, folder: Path) -> tuple:
    relative = path.relative_to(folder)
    return (len(relative.parts), -lms_name(path.name).number, relative.as_posix())
