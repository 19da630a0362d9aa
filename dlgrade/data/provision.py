"""Lay out the datasets where unmodified student code looks for them.

* `ROOT/MNIST/raw/` and `ROOT/FashionMNIST/raw/`: the uncompressed IDX files
  under the names torchvision's `_check_exists` tests, so
  `torchvision.datasets.MNIST(ROOT, download=True)` loads without a network.
* `ROOT/.keras/datasets/mnist.npz`: what Keras' `mnist.load_data(path="mnist.npz")`
  reads when HOME=ROOT.

Full-size files are hard-linked from the raw cache (copied across file
systems); limited ("quick mode") files hold the first N samples and are
written fresh.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import numpy as np

from dlgrade.data.atomic import atomic_output
from dlgrade.data.idx import map_idx, write_idx
from dlgrade.data.layout import (
    DATASET_NAMES,
    FULL_SHAPES,
    IDX_FILES,
    KERAS_MNIST,
    TORCHVISION_FOLDERS,
    split_limit,
)
from dlgrade.data.rawcache import raw_files

# Errors that mean "no hard link here" (other file system, not permitted,
# too many links, unsupported); anything else is a real failure.
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES}


def provision(
    root: Path,
    data_dir: Path | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> list[Path]:
    """Provision MNIST and FashionMNIST under `root`; return the files placed.

    `train_limit`/`test_limit` keep only the first N samples of that split.
    Raises DataError with the fix command when a dataset is not cached.
    """
    for label, limit in (("train_limit", train_limit), ("test_limit", test_limit)):
        if limit is not None and limit < 1:
            raise ValueError(f"{label} must be a positive number of samples, not {limit}")
    root = Path(root)
    placed: list[Path] = []
    for name in DATASET_NAMES:
        cached = raw_files(name, data_dir)
        target = root / TORCHVISION_FOLDERS[name] / "raw"
        for split, filename in IDX_FILES.items():
            limit = _effective(split, train_limit, test_limit)
            dest = target / filename
            if limit is None:
                _link_or_copy(cached[split], dest)
            else:
                write_idx(dest, map_idx(cached[split])[:limit], fsync=False)
            placed.append(dest)
    placed.append(_provision_keras(root, data_dir, train_limit, test_limit))
    return placed


def _provision_keras(
    root: Path, data_dir: Path | None, train_limit: int | None, test_limit: int | None
) -> Path:
    dest = root.joinpath(*KERAS_MNIST)
    limits = {split: _effective(split, train_limit, test_limit) for split in IDX_FILES}
    cached = raw_files("mnist", data_dir)
    if all(limit is None for limit in limits.values()):
        _link_or_copy(cached["keras"], dest)
        return dest
    # Slices of the memory-mapped IDX cache: only the first N samples are read.
    arrays = {split: map_idx(cached[split])[: limits[split]] for split in IDX_FILES}
    with atomic_output(dest, fsync=False) as tmp, tmp.open("wb") as handle:
        np.savez(handle, **arrays)
    return dest


def _effective(split: str, train_limit: int | None, test_limit: int | None) -> int | None:
    """The split's limit, or None when it keeps every sample anyway."""
    limit = split_limit(split, train_limit, test_limit)
    return None if limit is None or limit >= FULL_SHAPES[split][0] else limit


def _link_or_copy(source: Path, dest: Path) -> None:
    """Place `source` at `dest` atomically: a hard link, or a copy where linking fails."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError as err:
        if err.errno not in _NO_LINK:
            raise
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
