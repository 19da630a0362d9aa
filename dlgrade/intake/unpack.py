"""Unpack LMS zips safely: no path escapes, bounded size, and a listing of what was inside.

A whole archive is refused (`IntakeError`) when it is not a zip or would
unpack past its `Limits`. The sizes the headers declare bound what is
written: `zipfile` stops each member at its declared size (and a member
whose data runs on fails its CRC check), so a bomb cannot lie its way past
the cap. A single member that cannot be written as a plain file inside the
destination (a path that climbs out, a symbolic link, an encrypted or
corrupt member, a name that clashes with a folder or is too long for the
disk) is not written and is listed in `Unpacked.skipped` with the reason, so
the caller decides whose upload that makes incomplete. No member overwrites
another.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dlgrade.grading.archive import MAX_ARCHIVE_BYTES
from dlgrade.intake.records import IntakeError

MAX_TOTAL_BYTES = 16 << 30  # a class export is large, but not this large
MAX_MEMBERS = 200_000
JUNK = ("__MACOSX/",)  # macOS resource forks: never anyone's work
_CHUNK = 1 << 20
# What reading or writing one member can raise: the member is skipped, the rest goes on.
_MEMBER_ERRORS = (OSError, ValueError, RuntimeError, NotImplementedError, EOFError, zlib.error)


@dataclass(frozen=True)
class Limits:
    """How much one archive may unpack to."""

    bytes: int
    members: int


CLASS_LIMITS = Limits(MAX_TOTAL_BYTES, MAX_MEMBERS)
# One student's upload: the same cap as a submission shipped to a cluster worker.
STUDENT_LIMITS = Limits(MAX_ARCHIVE_BYTES, 10_000)


@dataclass(frozen=True)
class Skipped:
    member: str  # the member's name in the archive
    reason: str


@dataclass(frozen=True)
class Unpacked:
    written: tuple[str, ...]  # paths relative to the destination, as written
    skipped: tuple[Skipped, ...] = ()

    def problem(self, archive: str) -> str:
        """One line naming every member not written ('' when all were)."""
        if not self.skipped:
            return ""
        shown = "; ".join(f"{s.member!r} {s.reason}" for s in self.skipped[:5])
        more = f"; and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
        return f"{archive}: {len(self.skipped)} file(s) could not be unpacked: {shown}{more}"


def unpack(archive: Path, dest: Path, limits: Limits = CLASS_LIMITS) -> Unpacked:
    """Extract `archive` into a fresh `dest`: what was written and what was skipped, and why.

    A member whose path is absolute or climbs out with `..` is never written;
    it is skipped like any other member that cannot be, and named.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _check(archive, members, limits)
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            written, skipped = [], []
            for member in members:
                if member.filename.startswith(JUNK):
                    continue
                outcome = _extract(zf, member, dest)
                if isinstance(outcome, Skipped):
                    skipped.append(outcome)
                else:
                    written.append(outcome)
    except zipfile.BadZipFile as err:
        raise IntakeError(f"{archive} is not a readable zip file ({err})") from err
    return Unpacked(tuple(written), tuple(skipped))


def _extract(zf: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path) -> str | Skipped:
    """Write one member under a free name; the path written, or why it was not."""
    name = member.filename
    if stat.S_ISLNK(member.external_attr >> 16):
        return Skipped(name, "is a symbolic link (links are never followed or recreated)")
    if member.flag_bits & 0x1:
        return Skipped(name, "is encrypted (password-protected zips cannot be graded)")
    relative = PurePosixPath(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts:
        return Skipped(name, "is a path outside the archive's folder (never written)")
    if not relative.parts:
        return Skipped(name, "has no file name")
    try:
        target = free_name(dest / relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(member) as source, target.open("xb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
    except (FileExistsError, NotADirectoryError):
        return Skipped(name, "lies inside a name that is a file in the same zip")
    except zipfile.BadZipFile as err:
        return Skipped(name, f"is corrupt ({err})")
    except _MEMBER_ERRORS as err:
        return Skipped(name, f"could not be written ({type(err).__name__}: {err})")
    return target.relative_to(dest).as_posix()


def _check(archive: Path, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(members) > limits.members:
        raise IntakeError(
            f"{archive} holds {len(members)} files; more than {limits.members} is refused"
        )
    total = sum(m.file_size for m in members)
    if total > limits.bytes:
        raise IntakeError(
            f"{archive} would unpack to {total >> 20} MiB; "
            f"more than {limits.bytes >> 20} MiB is refused"
        )


def free_name(path: Path) -> Path:
    """`path`, or `name (2).ext` if that name is already taken (never overwrite a file)."""
    candidate, n = path, 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        n += 1
    return candidate


def single_top_folder(root: Path) -> Path:
    """`root`, or its only sub-folder when that is all it holds (an export's wrapper folder)."""
    entries = [p for p in root.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return root


def files_under(folder: Path, relative_to: Path) -> list[str]:
    """Every file below `folder`, as POSIX paths relative to `relative_to`, sorted."""
    return sorted(p.relative_to(relative_to).as_posix() for p in folder.rglob("*") if p.is_file())
