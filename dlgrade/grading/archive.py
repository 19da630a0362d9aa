"""A submission shipped as a zip archive (the `bytes` form; `cluster.dispatch.zip_submission`
packs it), unpacked safely below a target folder.

A link travels as a link entry (its target's text, never the file it leads to) and
comes out as a link again, so the grader that unpacks it names the link as local
grading does (engine/paths.py).
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from dlgrade.engine.paths import refused_link

MAX_ARCHIVE_BYTES = 512 << 20  # unpacked size of a submission shipped as a zip


def unpack_archive(data: bytes, target: Path) -> Path:
    """Extract a zip of one submission into `target` (names cannot escape it: see zipfile)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = sum(info.file_size for info in archive.infolist())
        if size > MAX_ARCHIVE_BYTES:
            raise ValueError(
                f"submission archive unpacks to {size} bytes (cap {MAX_ARCHIVE_BYTES})"
            )
        members = archive.infolist()
        archive.extractall(target, [m for m in members if not _is_link(m)])
        for member in filter(_is_link, members):
            _unpack_link(target, member.filename, archive.read(member).decode("utf-8", "replace"))
    entries = [p for p in target.iterdir() if not p.name.startswith(".")]
    # A zip of the folder itself (one top-level folder) is the same submission as its contents.
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return target


def _is_link(member: zipfile.ZipInfo) -> bool:
    return member.create_system == 3 and stat.S_ISLNK(member.external_attr >> 16)


def _unpack_link(target: Path, name: str, points_to: str) -> None:
    """Make the link entry `name` a link again below `target`, so discovery refuses and names
    it (engine/paths.py: never followed); an entry that would leave `target`, or go through
    a link, is dropped as zipfile drops such names."""
    parts = PurePosixPath(name).parts
    if not parts or not points_to or name.startswith("/") or ".." in parts:
        return
    path = target.joinpath(*parts)
    if path.exists() or path.is_symlink() or refused_link(target, path.parent) is not None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(points_to)
