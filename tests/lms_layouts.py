"""Build LMS exports from plain submission folders, shaped as each LMS writes them.

Used by the intake tests: a Gradescope "Export Submissions" folder or zip, a
Canvas "Download Submissions" zip and GitHub Classroom clones, each holding
the same students as a plain class folder. Not collected by pytest (no
`test_` prefix).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Student:
    folder: Path  # a plain submission folder (e.g. submissions/examples/...)
    name: str  # "Ada Lovelace"
    email: str
    sid: str  # institution's student number (Gradescope SID)
    canvas_id: str
    github: str


def gradescope_export(students: list[Student], dest: Path, stray: str = "") -> Path:
    """assignment_4242_export/ with submission_metadata.yml and submission_<id>/ folders."""
    root = dest / "assignment_4242_export"
    lines = []
    for number, student in enumerate(students, start=90001):
        folder = f"submission_{number}"
        shutil.copytree(student.folder, root / folder)
        # As Gradescope writes it: Ruby-symbol keys, an unquoted timestamp, a numeric SID.
        lines += [
            f"{folder}:",
            "  :submitters:",
            f"  - :name: {student.name}",
            f"    :sid: {student.sid}",
            f"    :email: {student.email}",
            "  :created_at: 2023-09-14 21:58:03.123456789 -07:00",
            "  :score: 0.0",
            "  :status: processed",
        ]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    if stray:
        (root / stray).write_text("not anyone's submission\n")
    return root


def zip_folder(folder: Path, archive: Path, inside: str | None = None) -> Path:
    """Zip `folder`'s contents, under `inside/` (a wrapper folder) or at the top."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                relative = path.relative_to(folder).as_posix()
                zf.write(path, f"{inside}/{relative}" if inside else relative)
    return archive


def canvas_name(student: Student) -> str:
    """Canvas's squeezed sortable name: "Ada Lovelace" -> "lovelaceada"."""
    first, _, last = student.name.rpartition(" ")
    return (last + first).lower().replace(" ", "").replace("-", "")


def canvas_zip(students: list[Student], archive: Path, late: tuple[str, ...] = ()) -> Path:
    """submissions.zip: flat `<name>_[LATE_]<userid>_<attachmentid>_<original>` files."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        attachment = 700001
        for student in students:
            marker = "LATE_" if student.canvas_id in late else ""
            for path in sorted(p for p in student.folder.rglob("*") if p.is_file()):
                name = (
                    f"{canvas_name(student)}_{marker}{student.canvas_id}_{attachment}_{path.name}"
                )
                zf.write(path, name)
                attachment += 1
        zf.writestr("grading-notes.txt", "TA notes that belong to nobody\n")
    return archive


def canvas_resubmissions(students: list[Student], older: Path, archive: Path) -> Path:
    """A Canvas download where each student first handed in `older`'s files of the same
    names, then their own: Canvas keeps both and numbers the second `answers-1.toml`,
    `HW1P3-1.ipynb`."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        attachment = 800001
        for student in students:
            second = sorted(p for p in student.folder.iterdir() if p.is_file())
            first = [older / p.name for p in second if (older / p.name).is_file()]
            for path, original in [(p, p.name) for p in first] + [
                (p, f"{p.stem}-1{p.suffix}") for p in second
            ]:
                zf.write(
                    path, f"{canvas_name(student)}_{student.canvas_id}_{attachment}_{original}"
                )
                attachment += 1
    return archive


def classroom_clones(students: list[Student], dest: Path, assignment: str = "hw1") -> Path:
    """<assignment>-submissions/ with one `<assignment>-<username>` git clone per student."""
    root = dest / f"{assignment}-submissions"
    for student in students:
        repo = root / f"{assignment}-{student.github}"
        shutil.copytree(student.folder, repo)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return root
