"""Hostile zip archives for the intake tests: bombs, encrypted and link members, clashing names.

Built with `zipfile` and, where it cannot write what an attacker can (an
encrypted member), patched at the byte level. Not collected by pytest (no
`test_` prefix); test modules import it.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from functools import cache

from dlgrade.intake.unpack import STUDENT_LIMITS

_LOCAL, _CENTRAL = b"PK\x03\x04", b"PK\x01\x02"


def plain_zip(members: dict[str, bytes]) -> bytes:
    """A zip of `members` as given (names may repeat a folder's name as a file's)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def symlink_zip(name: str = "answers.toml", target: str = "/etc/passwd") -> bytes:
    """A zip whose member `name` is a symbolic link to `target` (as `zip --symlinks` stores it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return buffer.getvalue()


def encrypted_zip(members: dict[str, bytes]) -> bytes:
    """`plain_zip(members)` with every member flagged as encrypted (ZipCrypto's bit 0)."""
    data = bytearray(plain_zip(members))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        infos = zf.infolist()
        central = zf.start_dir
    for info in infos:
        _set_flag(data, info.header_offset, _LOCAL, 6)
    for _ in infos:  # central records: 46 fixed bytes, then name, extra and comment
        _set_flag(data, central, _CENTRAL, 8)
        lengths = struct.unpack_from("<HHH", data, central + 28)
        central += 46 + sum(lengths)
    return bytes(data)


def _set_flag(data: bytearray, offset: int, signature: bytes, at: int) -> None:
    assert data[offset : offset + 4] == signature, "not a zip header where one was expected"
    (flags,) = struct.unpack_from("<H", data, offset + at)
    struct.pack_into("<H", data, offset + at, flags | 0x1)


@cache
def bomb_zip() -> bytes:
    """Half a megabyte that unpacks to just over one student's cap (built once per run)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        chunk = bytes(1 << 20)
        for _ in range((STUDENT_LIMITS.bytes >> 20) + 1):
            member.write(chunk)
    return buffer.getvalue()
