"""Reading a hand-in's files through paths that stay inside its folder (threat model point 4).

The grader runs with more rights than the student's code: whatever it reads
on a student's behalf must be a regular file inside the submission folder.
A link (to a file outside, to one inside, dangling, or to a folder) is never
followed: it is named (`RefusedLink.message`) and left ungraded. Files are
opened one path component at a time with O_NOFOLLOW, so a link swapped in
after a check is refused too rather than followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class LinkRefused(OSError):
    """A path in a hand-in is a link, leaves the folder, or is not a regular file."""


@dataclass(frozen=True)
class RefusedLink:
    """A hand-in entry that is a link (or leads out of the folder), with where it points."""

    name: str  # relative to the submission folder, posix form
    target: str  # what the link says ("" when it cannot be read)

    @property
    def message(self) -> str:
        return f"`{self.name}` is a link to `{self.target}`: not graded"


def refused_link(folder: Path, path: Path) -> RefusedLink | None:
    """The first link on the way from `folder` down to `path` (below it); None when there is none."""
    folder = Path(folder)
    current = folder
    for part in Path(path).relative_to(folder).parts:
        current = current / part
        if current.is_symlink():
            return RefusedLink(current.relative_to(folder).as_posix(), _target(current))
    return None


def hand_in_files(folder: Path) -> tuple[list[Path], list[RefusedLink]]:
    """Every regular file below `folder` (links not followed), and every link found there."""
    files: list[Path] = []
    links: list[RefusedLink] = []
    for path in _walk(Path(folder)):
        if path.is_symlink():
            links.append(RefusedLink(path.relative_to(folder).as_posix(), _target(path)))
        elif path.is_file():
            files.append(path)
    return sorted(files), sorted(links, key=lambda link: link.name)


def _walk(folder: Path) -> Iterator[Path]:
    # os.walk does not descend into linked folders; links to folders are listed in `dirs`.
    for parent, dirs, names in os.walk(folder):
        base = Path(parent)
        yield from (base / name for name in dirs if (base / name).is_symlink())
        yield from (base / name for name in names)


def read_inside(folder: Path, path: Path, limit: int | None = None) -> bytes:
    """The bytes of the regular file `path` below `folder`, no link followed on the way.

    Raises `LinkRefused` naming the link when a component is one (or the path
    is not below `folder`, or is not a regular file), and `ValueError` when the
    file is bigger than `limit`.
    """
    if not Path(path).is_relative_to(folder):
        raise LinkRefused(f"`{path}` is not below the submission folder {folder}: not read")
    refusal = refused_link(folder, path)
    if refusal is not None:
        raise LinkRefused(refusal.message)
    parts = Path(path).relative_to(folder).parts
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    for part in parts[:-1]:
        fd = _open_at(fd, part, os.O_RDONLY | os.O_DIRECTORY, Path(path))
    fd = _open_at(fd, parts[-1], os.O_RDONLY, Path(path))
    try:
        return _read_regular(fd, Path(path), limit)
    finally:
        os.close(fd)


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of `path` when it is a regular file and not a link (O_NOFOLLOW on open)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if Path(path).is_symlink():
            raise LinkRefused(
                f"`{Path(path).name}` is a link to `{_target(path)}`: not read"
            ) from err
        raise
    try:
        return _read_regular(fd, Path(path), limit)
    finally:
        os.close(fd)


def _open_at(dir_fd: int, name: str, flags: int, path: Path) -> int:
    """Open `name` in `dir_fd` without following a link; `dir_fd` is closed either way."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as err:
        # ELOOP (a link) or ENOTDIR (a link where a folder was): swapped in after the check.
        raise LinkRefused(f"`{path.name}` went through a link while it was read: not read") from err
    finally:
        os.close(dir_fd)


def _read_regular(fd: int, path: Path, limit: int | None) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise LinkRefused(f"`{path.name}` is not a regular file: not read")
    if limit is not None and info.st_size > limit:
        raise ValueError(f"{path.name} is {info.st_size} bytes (cap {limit})")
    with os.fdopen(os.dup(fd), "rb") as handle:
        return handle.read() if limit is None else handle.read(limit + 1)


def _target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""
