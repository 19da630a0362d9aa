"""The cache: where it lives, loading real data, refusing bad files, atomic writes."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from dlgrade.data import DataError, Dataset, data_dir, load
from dlgrade.data.atomic import atomic_output
from dlgrade.data.store import ENV_VAR, cache_path, validate_arrays


@pytest.fixture(scope="module")
def mnist(cache: Path) -> Dataset:
    return load("mnist", cache)


def test_data_dir_prefers_explicit_then_env_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert data_dir() == tmp_path / "home" / ".cache" / "dlgrade"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.setenv(ENV_VAR, "")
    assert data_dir() == tmp_path / "home" / ".cache" / "dlgrade"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_load_real_cache(cache: Path, name: str) -> None:
    dataset = load(name, cache)
    assert dataset.name == name
    shapes = {split: array.shape for split, array in dataset.arrays().items()}
    assert shapes == {
        "x_train": (60000, 28, 28),
        "y_train": (60000,),
        "x_test": (10000, 28, 28),
        "y_test": (10000,),
    }
    assert all(array.dtype == np.uint8 for array in dataset.arrays().values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        dataset.name = "other"  # type: ignore[misc]


def test_load_missing_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        load("fashion-mnist", tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "fashion-mnist.npz") in message
    assert f"data fetch fashion-mnist --data-dir {tmp_path}" in message


def test_load_refuses_truncated_cache(cache: Path, tmp_path: Path) -> None:
    real = cache_path("mnist", cache).read_bytes()
    broken = cache_path("mnist", tmp_path)
    broken.write_bytes(real[: len(real) // 2])
    with pytest.raises(DataError, match="unreadable cache file") as caught:
        load("mnist", tmp_path)
    assert str(broken) in str(caught.value)


def test_load_refuses_wrong_shapes_and_missing_arrays(mnist: Dataset, tmp_path: Path) -> None:
    arrays = mnist.arrays()
    np.savez(cache_path("mnist", tmp_path), **{**arrays, "x_test": arrays["x_test"][:100]})
    with pytest.raises(DataError, match=r"x_test has shape \(100, 28, 28\), expected"):
        load("mnist", tmp_path)
    np.savez(cache_path("mnist", tmp_path), x_train=arrays["x_train"])
    with pytest.raises(DataError, match="missing arrays y_train, x_test, y_test"):
        load("mnist", tmp_path)


def test_load_refuses_pickled_object_arrays(tmp_path: Path) -> None:
    labels = np.array([object()] * 3, dtype=object)
    np.savez(cache_path("mnist", tmp_path), y_train=labels)
    with pytest.raises(DataError, match="unreadable cache file"):
        load("mnist", tmp_path)


def test_validate_arrays_checks_dtype_and_label_range(mnist: Dataset) -> None:
    validate_arrays(mnist.arrays(), "real")
    as_float = {**mnist.arrays(), "x_train": mnist.x_train.astype(np.float32)}
    with pytest.raises(DataError, match="x_train has dtype float32, expected uint8"):
        validate_arrays(as_float, "src")
    bad_labels = mnist.y_test.copy()
    bad_labels[17] = 10
    with pytest.raises(DataError, match="y_test holds label 10"):
        validate_arrays({**mnist.arrays(), "y_test": bad_labels}, "src")


def test_atomic_output_leaves_old_file_when_writer_fails_midway(
    mnist: Dataset, tmp_path: Path
) -> None:
    target = tmp_path / "mnist.npz"
    target.write_bytes(b"previous complete content")

    with pytest.raises(OSError, match="disk full"), atomic_output(target) as tmp:
        with tmp.open("wb") as handle:
            handle.write(mnist.x_train.tobytes()[:1_000_000])  # half a file
        raise OSError("disk full")

    assert target.read_bytes() == b"previous complete content"
    assert sorted(os.listdir(tmp_path)) == ["mnist.npz"], "temporary file left behind"


def test_atomic_output_leaves_no_file_when_first_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "new.npz"
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as tmp:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_replaces_on_success(mnist: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "labels.npz"
    target.write_bytes(b"old")
    with atomic_output(target) as tmp, tmp.open("wb") as handle:
        np.savez(handle, y_test=mnist.y_test)
    with np.load(target, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["y_test"], mnist.y_test)
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["labels.npz"]
