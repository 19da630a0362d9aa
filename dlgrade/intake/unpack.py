"""Unpack LMS zips safely: no path escapes, bounded size, and a listing of what was inside."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from dlgrade.intake.records import IntakeError

MAX_TOTAL_BYTES = 16 << 30  # a class export is large, but not this large
MAX_MEMBERS = 200_000
JUNK = ("__MACOSX/",)  # macOS resource forks: never anyone's work


def unpack(archive: Path, dest: Path) -> list[str]:
    """Extract `archive` into a fresh `dest`; the member paths written, relative to `dest`.

    A member whose path is absolute or climbs out with `..` makes the whole
    zip suspect, so it is refused rather than silently skipped.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _check(archive, members)
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            written = []
            for member in members:
                if member.filename.startswith(JUNK):
                    continue
                target = dest / PurePosixPath(member.filename)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
                written.append(PurePosixPath(member.filename).as_posix())
    except zipfile.BadZipFile as err:
        raise IntakeError(f"{archive} is not a readable zip file ({err})") from err
    return written


def _check(archive: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise IntakeError(
            f"{archive} holds {len(members)} files; more than {MAX_MEMBERS} is refused"
        )
    total = sum(m.file_size for m in members)
    if total > MAX_TOTAL_BYTES:
        raise IntakeError(
            f"{archive} would unpack to {total >> 20} MiB; more than {MAX_TOTAL_BYTES >> 30} GiB is refused"
        )
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            raise IntakeError(
                f"{archive} contains {member.filename!r}, a path outside the archive's folder; "
                "refusing to unpack it"
            )


def single_top_folder(root: Path) -> Path:
    """`root`, or its only sub-folder when that is all it holds (an export's wrapper folder)."""
    entries = [p for p in root.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return root


def files_under(folder: Path, relative_to: Path) -> list[str]:
    """Every file below `folder`, as POSIX paths relative to `relative_to`, sorted."""
    return sorted(p.relative_to(relative_to).as_posix() for p in folder.rglob("*") if p.is_file())
