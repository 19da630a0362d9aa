"""The IDX file format (LeCun's MNIST files), read and written with full validation.

Layout: two zero bytes, a type code byte, a dimension-count byte, one
big-endian uint32 per dimension, then the data in big-endian order. A file
that deviates in any way (wrong magic, unknown type, short or long data) is
refused with a `DataError` naming it: a silently mis-read dataset would
grade students against the wrong pictures.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from dlgrade.data.atomic import atomic_output
from dlgrade.data.errors import DataError

# IDX type codes and the big-endian numpy dtypes they denote.
_CODE_TO_DTYPE: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_GZIP_MAGIC = b"\x1f\x8b"

ShapeSpec = tuple[int | None, ...]


def idx_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The IDX header (magic + dimensions) for an array of `dtype` and `shape`."""
    code = _dtype_code(np.dtype(dtype))
    if not 1 <= len(shape) <= 255:
        raise ValueError(f"IDX holds 1 to 255 dimensions, not {len(shape)}")
    if any(not 0 <= n < 2**32 for n in shape):
        raise ValueError(f"IDX dimensions must fit in uint32: {shape}")
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, code, len(shape), *shape)


def encode_idx(array: np.ndarray) -> bytes:
    """The complete uncompressed IDX encoding of `array`."""
    code = _dtype_code(array.dtype)
    big_endian = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code])
    return idx_header(array.dtype, array.shape) + big_endian.tobytes()


def decode_idx(data: bytes, source: str) -> np.ndarray:
    """Parse IDX bytes into a native-endian array; `source` names them in errors."""
    shape, dtype, header_len = parse_header(data, source)
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header_len
    if found != expected:
        kind = "truncated" if found < expected else "trailing bytes"
        raise DataError(
            f"{source}: {kind}: shape {shape} needs {expected} data bytes, file has {found}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    # A native-endian, writable copy: callers may modify it or hand it to torch.
    return array.astype(dtype.newbyteorder("="))


def parse_header(data: bytes, source: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, big-endian dtype and header length from the start of an IDX file."""
    if len(data) < 4:
        raise DataError(f"{source}: only {len(data)} bytes, too short for an IDX header")
    zero1, zero2, code, ndim = data[:4]
    if zero1 or zero2:
        raise DataError(
            f"{source}: bad IDX magic number 0x{data[:4].hex()} (must start with two zero bytes)"
        )
    if code not in _CODE_TO_DTYPE:
        raise DataError(f"{source}: unknown IDX data type code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{source}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{source}: truncated IDX header ({len(data)} of {header_len} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    return shape, np.dtype(_CODE_TO_DTYPE[code]), header_len


def read_idx(
    path: Path, shape: ShapeSpec | None = None, dtype: np.dtype | type | None = None
) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw, told apart by content).

    `shape` may fix some dimensions (None = any length); `dtype` the element
    type. Any mismatch is a `DataError` naming the file.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise DataError(f"{path}: file not found") from err
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as err:
            raise DataError(f"{path}: corrupt or truncated gzip stream ({err})") from err
    array = decode_idx(data, str(path))
    _check_expected(array, shape, dtype, str(path))
    return array


def map_idx(path: Path) -> np.ndarray:
    """Memory-map an uncompressed IDX file read-only, after validating header and size.

    Slicing the result reads only the bytes asked for: quick-mode provisioning
    takes the first N samples this way without loading the whole file.
    """
    with path.open("rb") as handle:
        head = handle.read(4 + 4 * 255)
        size = os.fstat(handle.fileno()).st_size
    if head[:2] == _GZIP_MAGIC:
        raise DataError(f"{path}: gzip-compressed; only raw IDX files can be memory-mapped")
    shape, dtype, header_len = parse_header(head, str(path))
    expected = header_len + math.prod(shape) * dtype.itemsize
    if size != expected:
        raise DataError(f"{path}: {size} bytes, but its header (shape {shape}) needs {expected}")
    return np.memmap(path, dtype=dtype, mode="r", offset=header_len, shape=shape)


def write_idx(path: Path, array: np.ndarray, *, compress: bool = False, fsync: bool = True) -> None:
    """Write `array` as an IDX file atomically (gzip-compressed if `compress`)."""
    data = encode_idx(array)
    if compress:
        # mtime=0 keeps the output byte-for-byte reproducible.
        data = gzip.compress(data, mtime=0)
    with atomic_output(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)


def _dtype_code(dtype: np.dtype) -> int:
    for code, name in _CODE_TO_DTYPE.items():
        candidate = np.dtype(name)
        if dtype.kind == candidate.kind and dtype.itemsize == candidate.itemsize:
            return code
    raise ValueError(f"IDX cannot store dtype {dtype}")


def _check_expected(
    array: np.ndarray, shape: ShapeSpec | None, dtype: np.dtype | type | None, source: str
) -> None:
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise DataError(f"{source}: element type {array.dtype}, expected {np.dtype(dtype)}")
    if shape is None:
        return
    fits = len(shape) == array.ndim and all(
        want is None or want == got for want, got in zip(shape, array.shape, strict=False)
    )
    if not fits:
        dims = ["N" if n is None else str(n) for n in shape]
        wanted = f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"
        raise DataError(f"{source}: shape {array.shape}, expected {wanted}")
