"""Canvas's "Download Submissions": one flat folder of prefixed files.

Canvas names each uploaded file `<name>_<userid>_<attachmentid>_<original>`,
with `LATE_` before the user id when the hand-in was late, and text entries
`<name>_<userid>_text.html`. `<name>` is the student's sortable name squeezed
to lower-case letters ("lovelaceada"). Files are grouped per user id and copied
under their original names, so discovery sees `hw1p4.ipynb` and
`answers.toml`. A zip a student uploaded is unpacked in their folder.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dlgrade.intake.names import unique_keys
from dlgrade.intake.records import ClassInput, HandIn, IntakeError
from dlgrade.intake.unpack import STUDENT_LIMITS, free_name, unpack
from dlgrade.records import Identity

EXPECTED = "a Canvas download: flat files named <name>_<userid>_<submissionid>_<original name>"
_UPLOAD = re.compile(
    r"^(?P<name>[^_]+)_(?P<late>LATE_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<original>.+)$"
)
_TEXT = re.compile(
    r"^(?P<name>[^_]+)_(?P<late>LATE_)?(?P<user>\d+)_(?P<original>(?:text|link|url)\.html)$"
)


@dataclass(frozen=True)
class CanvasFile:
    path: Path
    name: str  # Canvas's squeezed sortable name
    user: str
    original: str
    late: bool


def parse(path: Path) -> CanvasFile | None:
    match = _UPLOAD.match(path.name) or _TEXT.match(path.name)
    if match is None:
        return None
    return CanvasFile(path, match["name"], match["user"], match["original"], bool(match["late"]))


def looks_like(root: Path) -> bool:
    files = [p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
    matching = sum(parse(p) is not None for p in files)
    return matching > 0 and 2 * matching >= len(files)


def read(root: Path, workdir: Path) -> ClassInput:
    files = sorted(p for p in root.iterdir() if p.is_file())
    parsed = [f for f in (parse(p) for p in files) if f is not None]
    if not parsed:
        raise IntakeError(f"{root}: no file is named like a Canvas download; expected {EXPECTED}")
    by_user: dict[str, list[CanvasFile]] = {}
    for item in parsed:
        by_user.setdefault(item.user, []).append(item)
    users = sorted(by_user, key=lambda u: (by_user[u][0].name, u))
    keys = unique_keys([(by_user[u][0].name, u) for u in users])
    if workdir.exists():
        shutil.rmtree(workdir)
    hand_ins = {}
    for key, user in zip(keys, users, strict=True):
        items = by_user[user]
        folder = workdir / key
        refused = lay_out_contained(items, folder)
        person = Identity(id=user, name=items[0].name, lms="canvas")
        origin = f"{len(items)} file(s) of Canvas user {user}"
        late = any(i.late for i in items)
        hand_ins[key] = HandIn(key, folder, (person,), late, origin, refused)
    taken = {item.path for item in parsed}
    unassigned = [p.name for p in files if p not in taken]
    unassigned += sorted(
        p.relative_to(root).as_posix()
        for d in root.iterdir()
        if d.is_dir()
        for p in d.rglob("*")
        if p.is_file()
    )
    return ClassInput("canvas", root, hand_ins, tuple(unassigned))


def lay_out_contained(items: list[CanvasFile], folder: Path) -> str:
    """`_lay_out`, with anything it raises kept to this one student (the class goes on):
    why their upload is refused, or "" when all of it was laid out."""
    try:
        return _lay_out(items, folder)
    except Exception as err:  # a hostile or broken upload: this student's problem only
        return f"the upload could not be laid out ({type(err).__name__}: {err})"


def _lay_out(items: list[CanvasFile], folder: Path) -> str:
    """Copy one student's files under their original names; unpack uploaded zips.

    A zip that cannot be unpacked whole is kept as uploaded (nothing is lost),
    and the reason is returned: graded without it, the student would be told
    their files are missing, which is not what happened.
    """
    folder.mkdir(parents=True)
    problems = []
    for item in items:
        original = Path(item.original).name
        if original.lower().endswith(".zip"):
            try:
                unpacked = unpack(
                    item.path, free_name(folder / Path(original).stem), STUDENT_LIMITS
                )
            except IntakeError as err:
                problems.append(str(err).replace(str(item.path), original))
            else:
                problems += [unpacked.problem(original)] if unpacked.skipped else []
                continue
        shutil.copy2(item.path, free_name(folder / original))
    return "; ".join(problems)
