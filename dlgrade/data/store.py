"""The dataset cache: where it lives, and saving/loading validated `.npz` files."""

from __future__ import annotations

import os
import shlex
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from dlgrade.data.atomic import atomic_output
from dlgrade.data.errors import DataError
from dlgrade.data.layout import FULL_SHAPES, SPLITS, DatasetName, check_name

ENV_VAR = "DLGRADE_DATA"


@dataclass(frozen=True)
class Dataset:
    """One dataset's four uint8 arrays (images 28x28, labels 0-9)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays keyed by split name, in `SPLITS` order."""
        return {split: getattr(self, split) for split in SPLITS}


def data_dir(explicit: Path | None = None) -> Path:
    """The cache directory: `explicit`, else `$DLGRADE_DATA`, else ~/.cache/dlgrade."""
    if explicit is not None:
        return Path(explicit).expanduser()
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "dlgrade"


# Functions below take a `data_dir` argument like the public API; this alias
# reaches the resolver that the argument shadows.
_resolve_dir = data_dir


def cache_path(name: DatasetName, data_dir: Path | None = None) -> Path:
    """The `.npz` cache file of dataset `name`."""
    return _resolve_dir(data_dir) / f"{check_name(name)}.npz"


def fix_command(name: DatasetName, data_dir: Path | None = None, program: str = "dlgrade") -> str:
    """The shell command that (re)fetches `name` into the cache directory.

    `program` is how the user starts dlgrade (the command line passes what
    they typed, see `dlgrade.invocation`).
    """
    directory = shlex.quote(str(_resolve_dir(data_dir)))
    return f"{program} data fetch {name} --data-dir {directory}"


def validate_arrays(arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Raise DataError unless `arrays` holds the four full-size uint8 splits."""
    missing = [split for split in SPLITS if split not in arrays]
    if missing:
        raise DataError(f"{source}: missing arrays {', '.join(missing)}")
    for split in SPLITS:
        array = arrays[split]
        if array.dtype != np.uint8:
            raise DataError(f"{source}: {split} has dtype {array.dtype}, expected uint8")
        if array.shape != FULL_SHAPES[split]:
            raise DataError(
                f"{source}: {split} has shape {array.shape}, expected {FULL_SHAPES[split]}"
            )
    for split in ("y_train", "y_test"):
        top = int(arrays[split].max())
        if top > 9:
            raise DataError(f"{source}: {split} holds label {top}; labels must be 0-9")


def save(dataset: Dataset, data_dir: Path | None = None) -> Path:
    """Validate `dataset` and write its compressed cache file atomically."""
    path = cache_path(check_name(dataset.name), data_dir)
    arrays = dataset.arrays()
    validate_arrays(arrays, f"dataset {dataset.name}")
    with atomic_output(path) as tmp, tmp.open("wb") as handle:
        # A file object, not a path: numpy would append ".npz" to the temp name.
        np.savez_compressed(handle, **arrays)
    return path


def load(name: DatasetName, data_dir: Path | None = None) -> Dataset:
    """Load and validate the cached dataset `name`.

    Raises DataError naming the file, with the command that fixes it, when the
    cache is missing, unreadable or holds arrays of the wrong shape or type.
    """
    path = cache_path(name, data_dir)
    fix = fix_command(name, data_dir)
    if not path.is_file():
        raise DataError(f"{name}: no cache file at {path}. Fix: {fix}")
    try:
        stat = path.stat()
        arrays = _read_npz(str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{path}: unreadable cache file ({err}). Fix: {fix}") from err
    try:
        validate_arrays(arrays, str(path))
    except DataError as err:
        raise DataError(f"{err}. Fix: {fix}") from err
    return Dataset(name=name, **{split: arrays[split] for split in SPLITS})


@lru_cache(maxsize=4)
def _read_npz(path: str, mtime_ns: int, size: int, inode: int) -> dict[str, np.ndarray]:
    """The arrays of one cache file, decompressed once per process and file version.

    Grading asks for the same dataset many times per student (and a grading
    zygote loads it once for all the students it forks); decompressing costs a
    quarter of a second each time. The key changes whenever the file is
    replaced. The arrays are read-only, so no caller can alter another's copy.
    """
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    for array in arrays.values():
        array.setflags(write=False)
    return arrays
