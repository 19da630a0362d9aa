"""The plain layout: one sub-folder per student, named as the TA likes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dlgrade.grading.expected import EXPECTED_FILE
from dlgrade.intake.records import ClassInput, HandIn

EXPECTED = "a folder with one sub-folder per student (names starting with _ or . are ignored)"


def ignored(path: Path) -> bool:
    """Names starting with _ or . are the TA's own (templates, caches), by convention."""
    return path.name.startswith(("_", "."))


def student_folders(root: Path, exclude: Sequence[Path] = ()) -> list[Path]:
    skip = {p.resolve() for p in exclude}
    return [
        path
        for path in sorted(root.iterdir())
        if path.is_dir() and not ignored(path) and path.resolve() not in skip
    ]


def looks_like(root: Path) -> bool:
    return bool(student_folders(root))


def read(root: Path, exclude: Sequence[Path] = ()) -> ClassInput:
    hand_ins = {
        path.name: HandIn(key=path.name, folder=path, origin=f"{path.name}/")
        for path in student_folders(root, exclude)
    }
    # Files beside the student folders belong to nobody; say so rather than drop them.
    loose = tuple(sorted(p.name for p in root.iterdir() if p.is_file() and not ignored(p)))
    corpus = corpus_files(loose)
    notes = (f"corpus files beside the submissions, not graded: {', '.join(corpus)}",)
    unassigned = tuple(name for name in loose if name not in corpus)
    return ClassInput("folders", root, hand_ins, unassigned, notes if corpus else ())


def corpus_files(names: Sequence[str]) -> tuple[str, ...]:
    """The names among `names` that describe a corpus rather than belong to a student.

    A corpus is a class folder with expected verdicts (EXPECTED.toml, for
    `dlgrade verify`); its expectations and its README sit beside the
    submissions by design, so they are named as the corpus's, not as stray
    files. Without EXPECTED.toml a README is as loose as any other file.
    """
    if EXPECTED_FILE not in names:
        return ()
    return tuple(n for n in names if n == EXPECTED_FILE or n.partition(".")[0].upper() == "README")
