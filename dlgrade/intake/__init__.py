"""Read a class as it comes: a folder of student folders, or what an LMS exports.

    from dlgrade.intake import read_class
    intake = read_class(Path("export.zip"), workdir=Path("OUT/.intake"))
    intake.folders()   # {student key: folder with the original file names}
    intake.hand_ins["ada-lovelace"].identities   # (Identity(id, name, email, lms),)

Layouts: `folders` (one sub-folder per student), `gradescope` (Export
Submissions), `canvas` (Download Submissions) and `classroom` (GitHub
Classroom clones). A zip is unpacked into `workdir` first. `layout="auto"`
picks the first that fits; nothing fitting is an `IntakeError` that lists
what each layout expects and what was found. No file is dropped: whatever
belongs to no student is listed in `ClassInput.unassigned`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dlgrade.intake import canvas, classroom, folders, gradescope
from dlgrade.intake.records import ClassInput, HandIn, IntakeError
from dlgrade.intake.unpack import Skipped, single_top_folder, unpack

# Most specific first: a Gradescope export is also a folder of folders.
LAYOUTS = {
    "gradescope": gradescope,
    "canvas": canvas,
    "classroom": classroom,
    "folders": folders,
}
LAYOUT_CHOICES = ("auto", *LAYOUTS)

__all__ = ["LAYOUTS", "LAYOUT_CHOICES", "ClassInput", "HandIn", "IntakeError", "read_class"]


def read_class(
    source: Path, workdir: Path, layout: str = "auto", exclude: Sequence[Path] = ()
) -> ClassInput:
    """The submissions in `source` (folder or zip); `workdir` receives unpacked and regrouped files.

    `exclude` names folders that are never students (the output folder, when
    it sits inside the class folder).
    """
    if layout not in LAYOUT_CHOICES:
        raise IntakeError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUT_CHOICES)}")
    root, lost = _root(Path(source), workdir)
    chosen = detect(root, source) if layout == "auto" else layout
    if layout != "auto" and not LAYOUTS[chosen].looks_like(root):
        raise IntakeError(
            f"{source} is not laid out as --layout {chosen} expects: {LAYOUTS[chosen].EXPECTED}. "
            f"Found: {describe(root)}"
        )
    if chosen == "canvas":
        found = canvas.read(root, workdir / "canvas")
    elif chosen == "folders":
        found = folders.read(root, exclude=exclude)
    else:
        found = LAYOUTS[chosen].read(root)
    return _attribute(replace(found, source=Path(source)), lost)


def detect(root: Path, source: Path) -> str:
    for name, module in LAYOUTS.items():
        if module.looks_like(root):
            return name
    expected = "\n".join(f"  - {module.EXPECTED}" for module in LAYOUTS.values())
    raise IntakeError(
        f"{source} matches no layout dlgrade can read. Expected one of:\n{expected}\n"
        f"Found: {describe(root)}"
    )


def describe(root: Path, shown: int = 5) -> str:
    """'3 file(s) (a.pdf, b.txt, notes.md) and no folders' for error messages."""
    entries = sorted(root.iterdir())
    files = [p.name for p in entries if p.is_file()]
    dirs = [p.name + "/" for p in entries if p.is_dir()]

    def listing(names: list[str], kind: str) -> str:
        if not names:
            return f"no {kind}s"
        more = f", ... {len(names) - shown} more" if len(names) > shown else ""
        return f"{len(names)} {kind}(s) ({', '.join(names[:shown])}{more})"

    return f"{listing(files, 'file')} and {listing(dirs, 'folder')}"


def _root(source: Path, workdir: Path) -> tuple[Path, list[tuple[Path, Skipped]]]:
    """The folder to read, and the members of a class zip that could not be unpacked."""
    if source.is_dir():
        return source, []
    if not source.exists():
        raise IntakeError(f"{source} does not exist")
    if not zipfile.is_zipfile(source):
        raise IntakeError(
            f"{source} is a file but not a zip: pass a folder of submissions or an LMS export zip"
        )
    target = workdir / "unpacked"
    unpacked = unpack(source, target)
    if unpacked.skipped and not unpacked.written:
        raise IntakeError(unpacked.problem(str(source)))
    return single_top_folder(target), [(target / s.member, s) for s in unpacked.skipped]


def _attribute(found: ClassInput, lost: list[tuple[Path, Skipped]]) -> ClassInput:
    """Each member of the class zip that could not be unpacked refuses the student it
    belonged to (their upload is incomplete); one that belonged to nobody is a note."""
    reasons: dict[str, list[str]] = {}
    notes = list(found.notes)
    for path, skipped in lost:
        owner = _owner(found, path)
        line = f"{skipped.member!r} {skipped.reason}"
        if owner is None:
            notes.append(f"{found.source.name}: {line}; it belongs to no submission")
        else:
            reasons.setdefault(owner, []).append(line)
    hand_ins = dict(found.hand_ins)
    for key, lines in reasons.items():
        own = f"the export held file(s) of this submission that could not be unpacked: {'; '.join(lines)}"
        refused = "; ".join(r for r in (hand_ins[key].refused, own) if r)
        hand_ins[key] = replace(hand_ins[key], refused=refused)
    return replace(found, hand_ins=hand_ins, notes=tuple(notes))


def _owner(found: ClassInput, path: Path) -> str | None:
    for key, hand_in in found.hand_ins.items():
        if hand_in.folder in path.parents:
            return key
    parsed = canvas.parse(path)  # Canvas regroups flat files: match by user id
    if parsed is not None:
        for key, hand_in in found.hand_ins.items():
            if any(person.id == parsed.user for person in hand_in.identities):
                return key
    return None
