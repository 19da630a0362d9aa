"""Uncompressed copies of the cache, ready to hard-link into sandboxes.

Provisioning runs once per notebook execution, so it must not decompress or
re-encode 110 MB each time. The uncompressed IDX files and Keras' `mnist.npz`
are written once under `<data dir>/raw/<dataset>/` with a manifest of their
sizes and modification times; provisioning links them. A file changed behind
our back (for instance written through a hard link by student code) no longer
matches the manifest and the set is rebuilt from the verified `.npz` cache.
The files are made read-only so an unprivileged sandbox cannot write them.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from dlgrade.data.atomic import atomic_output, write_bytes_atomic
from dlgrade.data.idx import write_idx
from dlgrade.data.layout import IDX_FILES, DatasetName
from dlgrade.data.store import cache_path, load
from dlgrade.data.store import data_dir as resolve_data_dir

KERAS_FILE = "keras-mnist.npz"
_MANIFEST = "manifest.json"
_READ_ONLY = 0o444


def raw_dir(name: DatasetName, data_dir: Path | None = None) -> Path:
    """Folder of the uncompressed files of dataset `name`."""
    return resolve_data_dir(data_dir) / "raw" / name


def raw_files(name: DatasetName, data_dir: Path | None = None) -> dict[str, Path]:
    """Up-to-date uncompressed files of `name`, keyed by split (plus "keras" for MNIST).

    Rebuilds them from the `.npz` cache when missing or changed. Raises
    DataError (from `load`) when the `.npz` cache itself is missing or bad.
    """
    folder = raw_dir(name, data_dir)
    files = {split: folder / filename for split, filename in IDX_FILES.items()}
    if name == "mnist":
        files["keras"] = folder / KERAS_FILE
    source = cache_path(name, data_dir)
    with _locked(folder):
        if _manifest(source, files) != _read_manifest(folder):
            _rebuild(name, data_dir, files)
            write_bytes_atomic(folder / _MANIFEST, json.dumps(_manifest(source, files)).encode())
    return files


def _rebuild(name: DatasetName, data_dir: Path | None, files: dict[str, Path]) -> None:
    dataset = load(name, data_dir)
    arrays = dataset.arrays()
    for split, path in files.items():
        if split == "keras":
            with atomic_output(path, mode=_READ_ONLY) as tmp, tmp.open("wb") as handle:
                # Uncompressed: np.load then only maps and copies, no inflating.
                np.savez(handle, **arrays)
        else:
            write_idx(path, arrays[split])
            path.chmod(_READ_ONLY)


def _manifest(source: Path, files: dict[str, Path]) -> dict[str, list[int] | None]:
    """Size and mtime of the cache and of each derived file (None when missing)."""
    entries = {"source": source, **files}
    return {key: _stamp(path) for key, path in entries.items()}


def _stamp(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def _read_manifest(folder: Path) -> dict[str, list[int] | None] | None:
    try:
        return json.loads((folder / _MANIFEST).read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        # A damaged manifest only costs a rebuild; the data files are checked anew.
        return None


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Serialise rebuilds between processes provisioning at the same time."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
