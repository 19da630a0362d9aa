"""Atomic file output: readers see the old file or the complete new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: Path, *, fsync: bool = True, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success move it onto `path`.

    The temporary file lives in the same directory so that `os.replace` is a
    rename within one file system (atomic). If the body raises, the temporary
    file is removed and `path` is left exactly as it was. `fsync` makes the
    new content durable before the rename; provisioning scratch copies skips
    it because those directories are thrown away after one run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp creates 0600 files; caches and sandbox copies must be readable.
        tmp.chmod(mode)
        if fsync:
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write `data` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)
