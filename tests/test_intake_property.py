"""Property: whatever a class folder or LMS zip holds, the batch ends with its class files.

Hypothesis builds classes from hostile pieces (names that repeat, nest or
clash, `a` beside `a/b`, names that are not UTF-8 or are very long, empty
files, students holding only junk) delivered as a plain class folder, a
zipped class folder or a Canvas download whose uploads are zips (plain,
encrypted, bombs, symbolic links, not zips at all). Every run must end with
grades.csv, index.html and a record for every student the intake found, and
must write nothing outside OUT. Grading uses the stand-in checks
(tests/batch_standin.py) in fresh processes, and few examples, to stay cheap.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from batch_standin import write_standin_checks
from hostile_zips import bomb_zip, encrypted_zip, plain_zip, symlink_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlgrade.grading.batch import grade_class
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import load_records

NOT_UTF8 = os.fsdecode(b"j\xf6rg")
# Relative paths inside one student's hand-in; several clash on purpose.
PIECES = st.sampled_from(
    [
        "answers.toml",
        "answers-1.toml",
        "hw1p4-2.ipynb",
        "notes (1).txt",
        "LATE_answers.toml",
        "a",
        "a/b",
        "a/b/c.txt",
        "deep/er/still/x.py",
        f"{NOT_UTF8}.txt",
        "x" * 200 + ".txt",
        "../escape.txt",
        "",
    ]
)
STUDENT_NAMES = st.sampled_from(
    ["ada", "Ada Lovelace", "bob", NOT_UTF8, "y" * 150, "名前", "_template", "a b (1)"]
)
CONTENT = st.sampled_from([b"", b"junk\n", b"\x00\xff" * 50, b'{"cells": 7}'])
UPLOADS = st.sampled_from(["plain", "encrypted", "bomb", "symlink", "not-a-zip"])
STUDENT = st.tuples(STUDENT_NAMES, st.lists(st.tuples(PIECES, CONTENT), max_size=5), UPLOADS)
CLASSES = st.tuples(
    st.sampled_from(["folders", "folders-zip", "canvas"]),
    st.lists(STUDENT, min_size=1, max_size=3),
).filter(  # a class of TA folders only (_template) is no class: a clear error, tested elsewhere
    lambda made: any(not name.startswith("_") for name, _, _ in made[1])
)


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_checks(tmp_path_factory.mktemp("standin") / "checks")


def zip_name(name: str) -> str:
    """A member name as a zip stores it: a name that is not UTF-8 arrives as raw bytes, which
    readers decode as cp437 (Python's zipfile cannot write the raw bytes themselves)."""
    return os.fsencode(name).decode("cp437")


def _upload(kind: str, files: dict[str, bytes]) -> bytes:
    return {
        "plain": lambda: plain_zip(files),
        "encrypted": lambda: encrypted_zip(files or {"answers.toml": b""}),
        "bomb": bomb_zip,
        "symlink": symlink_zip,
        "not-a-zip": lambda: b"PK\x03\x04 truncated",
    }[kind]()


def _write(path: Path, data: bytes) -> None:
    """Create what the file system allows (a/b beside a file a is skipped: a folder cannot)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except (OSError, ValueError):
        pass


def build(layout: str, students: list, root: Path) -> Path:
    """The class as a TA would receive it, under `root`."""
    if layout == "canvas":
        download = root / "download"
        download.mkdir()
        for user, (name, pieces, upload) in enumerate(students, start=501):
            squeezed = "".join(c for c in name.lower() if c not in "_ ") or "x"
            prefix = f"{squeezed}_{user}"
            files = {zip_name(piece): data for piece, data in pieces if piece}
            _write(download / f"{prefix}_{user * 10}_hw1.zip", _upload(upload, files))
            for number, (piece, data) in enumerate(pieces):
                _write(download / f"{prefix}_{user * 10 + number + 1}_{Path(piece).name}", data)
        return download
    if layout == "folders-zip":
        archive = root / "class.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name, pieces, _ in students:
                for piece, data in pieces:
                    zf.writestr(zip_name(f"class/{name}/{piece}"), data)
                zf.writestr(zip_name(f"class/{name}/readme.txt"), b"here\n")
        return archive
    folder = root / "class"
    for name, pieces, _ in students:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for piece, data in pieces:
            if piece and ".." not in piece:
                _write(folder / name / piece, data)
    return folder


def snapshot(root: Path, out: Path) -> dict[str, int]:
    """Every path under `root` outside OUT, with its size: what a run must not change."""
    seen = {}
    for path in root.rglob("*"):
        if out == path or out in path.parents:
            continue
        seen[os.fsencode(path.relative_to(root)).hex()] = path.lstat().st_size
    return seen


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(CLASSES)
def test_any_class_ends_with_its_class_files_and_writes_only_into_out(checks, made):
    layout, students = made
    with tempfile.TemporaryDirectory(prefix="dlgrade-property-") as tmp:
        root = Path(tmp)
        source = build(layout, students, root)
        out = root / "out"
        before = snapshot(root, out)
        outcome = grade_class(
            source,
            out,
            GradeOptions(checks_dir=checks, timeout_s=120),
            jobs=2,
            progress=False,
            launcher="fresh",
        )
        assert (out / "grades.csv").is_file() and (out / "index.html").is_file()
        found = sorted(outcome.intake.hand_ins)
        assert sorted(r.student for r in load_records(out)) == found
        assert snapshot(root, out) == before
        assert not [p for p in out.rglob("*") if p.is_symlink()]
