"""The IDX reader/writer: round trips, real Debian files, and refusal of bad files."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlgrade.data import DataError
from dlgrade.data.idx import decode_idx, encode_idx, map_idx, read_idx, write_idx
from dlgrade.data.sources import DEBIAN_FASHION_DIR

DEBIAN_LABELS = DEBIAN_FASHION_DIR / "t10k-labels-idx1-ubyte.gz"
needs_debian = pytest.mark.skipif(
    not DEBIAN_LABELS.is_file(),
    reason=f"{DEBIAN_LABELS} missing: apt-get install dataset-fashion-mnist (./setup.sh does)",
)

SUPPORTED = st.sampled_from(["u1", "i1", ">i2", "<i4", ">f4", "<f8"])
ARRAYS = hnp.arrays(
    dtype=SUPPORTED.map(np.dtype),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
    elements={"allow_nan": False},
)


@given(array=ARRAYS)
def test_encode_decode_round_trip(array: np.ndarray) -> None:
    decoded = decode_idx(encode_idx(array), "memory")
    assert decoded.shape == array.shape
    assert decoded.dtype.kind == array.dtype.kind
    assert decoded.dtype.itemsize == array.dtype.itemsize
    np.testing.assert_array_equal(decoded, array)


@settings(max_examples=25, deadline=None)
@given(array=ARRAYS, compress=st.booleans())
def test_file_round_trip_raw_and_gzip(array: np.ndarray, compress: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "a-idx"
        write_idx(path, array, compress=compress, fsync=False)
        assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
        np.testing.assert_array_equal(read_idx(path), array)


@given(array=ARRAYS.filter(lambda a: a.nbytes > 0), data=st.data())
def test_every_truncation_is_refused(array: np.ndarray, data: st.DataObject) -> None:
    encoded = encode_idx(array)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(DataError, match="cut-file"):
        decode_idx(encoded[:cut], "cut-file")


@given(blob=st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_data_error(blob: bytes) -> None:
    # The parser may accept a blob only if it is self-consistent; any other
    # outcome must be DataError, never IndexError/struct.error/ValueError.
    try:
        array = decode_idx(blob, "blob")
    except DataError as err:
        assert "blob" in str(err)
    else:
        assert encode_idx(array) == blob


LABELS = np.array([9, 2, 1, 1, 6, 1, 4, 6, 5, 7], dtype=np.uint8)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"\x08\x00" + b[2:], "bad IDX magic"),
        (lambda b: b[:2] + b"\x07" + b[3:], "unknown IDX data type code 0x07"),
        (lambda b: b[:3] + b"\x00" + b[4:], "0 dimensions"),
        (lambda b: b[:-1], "truncated"),
        (lambda b: b + b"\x00", "trailing bytes"),
        (lambda b: b[:6], "truncated IDX header"),
        (lambda b: b"", "too short"),
    ],
)
def test_corrupt_files_are_refused_naming_the_file(tmp_path: Path, mutate, message: str) -> None:
    good = tmp_path / "good-idx1-ubyte"
    write_idx(good, LABELS, fsync=False)
    np.testing.assert_array_equal(read_idx(good), LABELS)
    bad = tmp_path / "bad-idx1-ubyte"
    bad.write_bytes(mutate(good.read_bytes()))
    with pytest.raises(DataError, match=message) as caught:
        read_idx(bad)
    assert str(bad) in str(caught.value)


def test_truncated_gzip_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    write_idx(path, LABELS, compress=True, fsync=False)
    np.testing.assert_array_equal(read_idx(path), LABELS)
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(DataError, match="corrupt or truncated gzip") as caught:
        read_idx(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def test_wrong_shape_and_dtype_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "images"
    write_idx(path, np.zeros((3, 28, 27), np.uint8), fsync=False)
    assert read_idx(path, shape=(None, 28, 27), dtype=np.uint8).shape == (3, 28, 27)
    with pytest.raises(DataError, match=r"shape \(3, 28, 27\), expected \(N, 28, 28\)"):
        read_idx(path, shape=(None, 28, 28))
    with pytest.raises(DataError, match=r"shape .*expected \(N,\)"):
        read_idx(path, shape=(None,))
    with pytest.raises(DataError, match="element type uint8, expected int32"):
        read_idx(path, dtype=np.int32)


@needs_debian
def test_reads_the_real_debian_files_and_writes_them_back_byte_identical(tmp_path: Path) -> None:
    labels = read_idx(DEBIAN_LABELS, shape=(None,), dtype=np.uint8)
    assert labels.shape == (10000,)
    np.testing.assert_array_equal(labels[:10], LABELS)
    assert np.bincount(labels).tolist() == [1000] * 10
    # Our writer reproduces the original uncompressed file exactly.
    assert encode_idx(labels) == gzip.decompress(DEBIAN_LABELS.read_bytes())
    images = read_idx(DEBIAN_FASHION_DIR / "t10k-images-idx3-ubyte.gz", shape=(None, 28, 28))
    assert images.shape == (10000, 28, 28)
    assert images.flags.writeable


@needs_debian
def test_map_idx_matches_read_idx_and_refuses_bad_files(tmp_path: Path) -> None:
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress(DEBIAN_LABELS.read_bytes()))
    mapped = map_idx(raw)
    np.testing.assert_array_equal(mapped[:100], read_idx(DEBIAN_LABELS)[:100])
    with pytest.raises(DataError, match="gzip-compressed"):
        map_idx(DEBIAN_LABELS)
    raw.write_bytes(raw.read_bytes()[:-1])
    with pytest.raises(DataError, match=r"10007 bytes, but its header .* needs 10008"):
        map_idx(raw)
