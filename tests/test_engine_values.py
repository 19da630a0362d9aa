"""Values crossing the boundary: npz/JSON validation and the checks' accessors."""

from __future__ import annotations

import numpy as np
import pytest

from dlgrade.engine import InterfaceError, ValueMismatch, expect_array, expect_number
from dlgrade.engine.values import RefusedValue, load_arrays, read_probe_result


def test_expect_array_checks_shape_ndim_and_finiteness():
    values = {"w": np.ones((32, 784)), "bad": np.array([1.0, np.nan]), "text": "hi"}
    assert expect_array(values, "w", shape=(None, 784)).shape == (32, 784)
    with pytest.raises(ValueMismatch, match="shape 32x784; expected 784x32"):
        expect_array(values, "w", shape=(784, 32))
    with pytest.raises(ValueMismatch, match="NaN"):
        expect_array(values, "bad")
    with pytest.raises(InterfaceError, match="not a numeric array"):
        expect_array(values, "text")
    with pytest.raises(InterfaceError, match="no value 'missing'"):
        expect_array(values, "missing", ndim=2)
    with pytest.raises(ValueMismatch, match="has 2 dimensions"):
        expect_array(values, "w", ndim=1)
    assert np.isnan(expect_array(values, "bad", finite=False)[1])  # a diverged run, when asked


def test_expect_number_accepts_size_one_arrays_and_json_numbers():
    assert expect_number({"a": np.array([[3.5]])}, "a") == 3.5
    assert expect_number({"a": 2}, "a") == 2.0
    with pytest.raises(InterfaceError):
        expect_number({"a": True}, "a")
    with pytest.raises(ValueMismatch, match="expected one number"):
        expect_number({"a": np.ones(3)}, "a")
    for bad in (float("nan"), float("inf"), np.array([np.nan])):
        with pytest.raises(ValueMismatch, match="not a finite number"):
            expect_number({"a": bad}, "a")


def test_object_arrays_and_pickles_are_refused(tmp_path):
    path = tmp_path / "values.npz"
    np.savez(path, x=np.array([object()], dtype=object))
    with pytest.raises(RefusedValue, match="not a plain numeric"):
        load_arrays(path, 1 << 20)
    result_dir = tmp_path / "probe"
    result_dir.mkdir()
    np.savez(result_dir / "values.npz", s=np.array(["text"]))
    assert "refused" in read_probe_result("p", result_dir, 1 << 20).error


def test_oversize_value_files_are_refused(tmp_path):
    path = tmp_path / "values.npz"
    np.savez(path, x=np.zeros(10_000))
    with pytest.raises(RefusedValue, match="cap"):
        load_arrays(path, 1000)
