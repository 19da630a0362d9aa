"""Provisioning: unmodified torchvision/Keras loading code finds the data offline."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import torchvision

from dlgrade.cli import main
from dlgrade.data import DataError, Dataset, data_dir, fetch, load, provision
from dlgrade.data.rawcache import raw_files
from dlgrade.data.store import cache_path

SHM = Path("/dev/shm")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache dir holding links to the real `.npz` files.

    Private because these tests tamper with the derived raw files, which other
    users of the default cache may be provisioning from at the same time.
    """
    source = data_dir()
    try:
        for name in ("mnist", "fashion-mnist"):
            load(name)
    except DataError:
        source = tmp_path_factory.mktemp("fetched")
        results = fetch(data_dir=source, progress=False)
        assert all(r.ok for r in results), [r.error for r in results]
    target = tmp_path_factory.mktemp("cache")
    for name in ("mnist", "fashion-mnist"):
        _link_or_copy(cache_path(name, source), cache_path(name, target))
    return target


@pytest.fixture(scope="module")
def datasets(cache: Path) -> dict[str, Dataset]:
    return {name: load(name, cache) for name in ("mnist", "fashion-mnist")}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails loudly."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def _assert_torchvision_loads(root: Path, datasets: dict[str, Dataset], n_train: int, n_test: int):
    for cls, name in (
        (torchvision.datasets.MNIST, "mnist"),
        (torchvision.datasets.FashionMNIST, "fashion-mnist"),
    ):
        for train, count in ((True, n_train), (False, n_test)):
            loaded = cls(str(root), train=train, download=True)
            split = "train" if train else "test"
            expected = datasets[name]
            np.testing.assert_array_equal(
                loaded.data.numpy(), getattr(expected, f"x_{split}")[:count]
            )
            np.testing.assert_array_equal(
                loaded.targets.numpy(), getattr(expected, f"y_{split}")[:count]
            )
        # Nothing was downloaded next to our files.
        assert sorted(p.name for p in (root / cls.__name__ / "raw").iterdir()) == [
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
        ]


def _assert_keras_npz(root: Path, mnist: Dataset, n_train: int, n_test: int) -> None:
    with np.load(root / ".keras" / "datasets" / "mnist.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["x_test", "x_train", "y_test", "y_train"]
        np.testing.assert_array_equal(npz["x_train"], mnist.x_train[:n_train])
        np.testing.assert_array_equal(npz["y_train"], mnist.y_train[:n_train])
        np.testing.assert_array_equal(npz["x_test"], mnist.x_test[:n_test])
        np.testing.assert_array_equal(npz["y_test"], mnist.y_test[:n_test])


def test_torchvision_and_keras_load_offline_after_provision(
    cache: Path, datasets: dict[str, Dataset], tmp_path: Path, offline: None
) -> None:
    placed = provision(tmp_path, cache)
    assert len(placed) == 9 and all(p.is_file() for p in placed)
    _assert_torchvision_loads(tmp_path, datasets, 60000, 10000)
    _assert_keras_npz(tmp_path, datasets["mnist"], 60000, 10000)


def test_without_provision_torchvision_would_have_downloaded(tmp_path: Path, offline: None) -> None:
    # The control for the test above: the socket block really stops a download.
    with pytest.raises(AssertionError, match="network access attempted"):
        torchvision.datasets.FashionMNIST(str(tmp_path), train=False, download=True)


def test_limits_take_the_first_samples(
    cache: Path, datasets: dict[str, Dataset], tmp_path: Path, offline: None
) -> None:
    provision(tmp_path, cache, train_limit=300, test_limit=40)
    _assert_torchvision_loads(tmp_path, datasets, 300, 40)
    _assert_keras_npz(tmp_path, datasets["mnist"], 300, 40)
    # Re-provisioning the same root in full mode replaces the slices.
    provision(tmp_path, cache, test_limit=20_000)
    _assert_torchvision_loads(tmp_path, datasets, 60000, 10000)
    _assert_keras_npz(tmp_path, datasets["mnist"], 60000, 10000)


def test_full_files_are_hard_links_to_the_raw_cache(cache: Path, tmp_path: Path) -> None:
    provision(tmp_path, cache)
    cached = raw_files("mnist", cache)["x_test"]
    provided = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    assert provided.stat().st_ino == cached.stat().st_ino
    assert cached.stat().st_mode & 0o222 == 0, "raw cache files must be read-only"


@pytest.mark.skipif(
    not SHM.is_dir() or SHM.stat().st_dev == Path.cwd().stat().st_dev,
    reason="needs /dev/shm on a different file system than the cache to force the copy path",
)
def test_copies_across_file_systems(cache: Path, datasets: dict[str, Dataset]) -> None:
    root = SHM / f"dlgrade-test-{os.getpid()}"
    try:
        provision(root, cache, train_limit=None, test_limit=None)
        provided = root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte"
        assert provided.stat().st_dev != cache.stat().st_dev
        np.testing.assert_array_equal(
            torchvision.datasets.FashionMNIST(str(root), train=False).targets.numpy(),
            datasets["fashion-mnist"].y_test,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_file_written_through_the_link_is_rebuilt(
    cache: Path, datasets: dict[str, Dataset], tmp_path: Path
) -> None:
    provision(tmp_path, cache)
    provided = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    try:
        with provided.open("r+b") as handle:  # what a careless notebook might do
            handle.seek(8)
            handle.write(b"\x09" * 100)
    except PermissionError:
        pytest.skip("not root: the read-only raw cache already refuses the write")
    assert raw_files("mnist", cache)["y_test"].read_bytes()[8:108] == bytes(
        datasets["mnist"].y_test[:100]
    )
    provision(tmp_path, cache)
    loaded = torchvision.datasets.MNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(loaded.targets.numpy(), datasets["mnist"].y_test)


def test_missing_cache_raises_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no cache file .* Fix: .*data fetch mnist"):
        provision(tmp_path / "root", tmp_path / "empty-cache")


def test_limits_must_be_positive(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="train_limit must be a positive number"):
        provision(tmp_path, cache, train_limit=0)


def test_cli_provision(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "data",
        "provision",
        str(tmp_path / "root"),
        "--data-dir",
        str(cache),
        "--test-limit",
        "5",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "root" / ".keras" / "datasets" / "mnist.npz") in out
    assert (
        main(["data", "provision", str(tmp_path / "r2"), "--data-dir", str(tmp_path / "none")]) == 1
    )
    assert "data fetch mnist" in capsys.readouterr().err
