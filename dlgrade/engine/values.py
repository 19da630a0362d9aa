"""Reading probe values back across the sandbox boundary, and the checks' accessors.

Only `.npz` (numeric arrays, `allow_pickle=False`) and size-capped JSON cross;
anything else is refused with a message, never trusted.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from dlgrade.engine.errors import InterfaceError, ValueMismatch
from dlgrade.engine.records import ProbeResult

MAX_JSON_BYTES = 10 << 20
_NUMERIC_KINDS = "biuf"


class RefusedValue(ValueError):
    """A value file from the sandbox that the grader will not accept."""


def read_probe_result(name: str, result_dir: Path, max_bytes: int) -> ProbeResult:
    """The validated values a probe left in `result_dir` (see _dlgrade_shim.probe)."""
    if not result_dir.is_dir():
        return ProbeResult(name, {}, "the probe left no results (it did not run to the end)")
    errors: list[str] = []
    error_file = result_dir / "error.txt"
    if error_file.is_file():
        errors.append(_read_capped(error_file, 4000).decode("utf-8", "replace"))
    values: dict[str, Any] = {}
    try:
        values.update(load_arrays(result_dir / "values.npz", max_bytes))
        for key, value in load_json(result_dir / "values.json", MAX_JSON_BYTES).items():
            if key in values:
                raise RefusedValue(f"key {key!r} emitted both as an array and as JSON")
            values[key] = value
    except RefusedValue as err:
        errors.append(f"refused: {err}")
    return ProbeResult(name, values, "; ".join(errors) or None)


def load_arrays(path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    """Numeric arrays from an .npz; pickles, object dtypes and oversize files are refused."""
    if not path.exists():
        return {}
    _check_size(path, max_bytes)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise RefusedValue(f"{path.name} is not a plain numeric .npz ({err})") from None
    for key, array in arrays.items():
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise RefusedValue(
                f"{key!r} has dtype {array.dtype}; only bool/int/float arrays are accepted"
            )
    return arrays


def load_json(path: Path, max_bytes: int) -> dict[str, Any]:
    if not path.exists():
        return {}
    _check_size(path, max_bytes)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RefusedValue(f"{path.name} is not JSON ({err})") from None
    if not isinstance(data, dict):
        raise RefusedValue(f"{path.name} must hold an object of emitted values")
    return data


def _check_size(path: Path, max_bytes: int) -> None:
    if path.is_symlink() or not path.is_file():
        raise RefusedValue(f"{path.name} is not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise RefusedValue(f"{path.name} is {size} bytes, over the {max_bytes}-byte cap")


def _read_capped(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit)


def expect_array(
    values: dict[str, Any],
    key: str,
    *,
    shape: tuple[int | None, ...] | None = None,
    ndim: int | None = None,
    finite: bool = True,
) -> np.ndarray:
    """`values[key]` as a float array with the given shape/ndim (None in shape = any size)."""
    if key not in values:
        raise InterfaceError(f"no value {key!r} was found (have: {sorted(values) or 'nothing'})")
    raw = values[key]
    if isinstance(raw, np.ndarray):
        array = raw
    elif _is_number_tree(raw):
        array = np.asarray(raw)
    else:
        raise InterfaceError(f"{key!r} is {type(raw).__name__}, not a numeric array")
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise InterfaceError(f"{key!r} has dtype {array.dtype}, not a numeric array")
    array = array.astype(float)
    if ndim is not None and array.ndim != ndim:
        raise ValueMismatch(f"{key!r} has {array.ndim} dimensions {array.shape}; expected {ndim}")
    if shape is not None and not _shape_matches(array.shape, shape):
        wanted = "x".join("*" if s is None else str(s) for s in shape)
        found = "x".join(str(s) for s in array.shape)
        raise ValueMismatch(f"{key!r} has shape {found}; expected {wanted}")
    if finite and not np.all(np.isfinite(array)):
        raise ValueMismatch(f"{key!r} contains NaN or infinite values")
    return array


def expect_number(values: dict[str, Any], key: str) -> float:
    """`values[key]` as one finite float (a size-1 array or a JSON number)."""
    if key not in values:
        raise InterfaceError(f"no value {key!r} was found (have: {sorted(values) or 'nothing'})")
    raw = values[key]
    if isinstance(raw, bool) or not isinstance(raw, int | float | np.ndarray):
        raise InterfaceError(f"{key!r} is {type(raw).__name__}, not a number")
    if isinstance(raw, np.ndarray):
        if raw.size != 1 or raw.dtype.kind not in _NUMERIC_KINDS:
            raise ValueMismatch(f"{key!r} is an array of shape {raw.shape}; expected one number")
        raw = raw.reshape(()).item()
    number = float(raw)
    if not math.isfinite(number):
        raise ValueMismatch(f"{key!r} is {number}, not a finite number")
    return number


def _shape_matches(found: tuple[int, ...], wanted: tuple[int | None, ...]) -> bool:
    return len(found) == len(wanted) and all(
        w is None or w == f for f, w in zip(found, wanted, strict=True)
    )


def _is_number_tree(value: object) -> bool:
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, list) and all(_is_number_tree(v) for v in value)
