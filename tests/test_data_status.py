"""Verification against known facts: passes on real data, fails on tampered data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlgrade.cli import main
from dlgrade.data import Dataset, load, status
from dlgrade.data.store import cache_path
from dlgrade.data.verify import check_facts, pixel_stats
from dlgrade.invocation import program_name


def _write_cache(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
    # Uncompressed: compressing 55 MB would cost seconds per test.
    np.savez(cache_path(name, folder), **arrays)


def _failed(report) -> set[str]:
    return {check.name for check in report.checks if not check.ok}


def test_real_caches_pass_every_fact(cache: Path) -> None:
    reports = status(data_dir=cache)
    assert [r.name for r in reports] == ["mnist", "fashion-mnist"]
    for report in reports:
        assert report.ok, [c for c in report.checks if not c.ok]
        assert report.fix is None
        assert len(report.checks) == 10
    mnist, fashion = reports
    assert mnist.train_counts == (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
    assert fashion.test_counts == (1000,) * 10
    assert mnist.shapes["x_train"] == (60000, 28, 28)


def test_pixel_stats_match_a_direct_float_computation(cache: Path) -> None:
    x = load("fashion-mnist", cache).x_test
    mean, std = pixel_stats(x)
    scaled = x.astype(np.float64) / 255
    assert mean == pytest.approx(scaled.mean(), abs=1e-12)
    assert std == pytest.approx(scaled.std(), abs=1e-12)


def test_shuffled_labels_fail_although_counts_still_match(cache: Path, tmp_path: Path) -> None:
    arrays = load("mnist", cache).arrays()
    arrays["y_train"] = np.random.default_rng(0).permutation(arrays["y_train"])
    _write_cache(tmp_path, "mnist", arrays)
    (report,) = status(["mnist"], tmp_path)
    assert not report.ok
    assert _failed(report) == {"first train labels", "md5 of train-labels-idx1-ubyte"}
    assert report.fix is not None and "data fetch mnist" in report.fix


def test_one_changed_pixel_fails_the_checksum(cache: Path) -> None:
    real = load("fashion-mnist", cache)
    x_test = real.x_test.copy()
    x_test[123, 14, 14] ^= 1
    tampered = Dataset("fashion-mnist", real.x_train, real.y_train, x_test, real.y_test)
    failed = {c.name for c in check_facts(tampered) if not c.ok}
    assert failed == {"md5 of t10k-images-idx3-ubyte"}


def test_swapped_datasets_fail(cache: Path, tmp_path: Path) -> None:
    # FashionMNIST stored under the MNIST name: shapes fine, facts all wrong.
    _write_cache(tmp_path, "mnist", load("fashion-mnist", cache).arrays())
    (report,) = status(["mnist"], tmp_path)
    assert not report.ok
    assert {"train label counts", "train pixel mean", "train pixel std"} <= _failed(report)


def test_missing_and_corrupt_caches_report_the_fix(tmp_path: Path) -> None:
    cache_path("fashion-mnist", tmp_path).write_bytes(b"PK\x03\x04 not really a zip")
    missing, corrupt = status(["mnist", "fashion-mnist"], tmp_path)
    assert not missing.found and not missing.ok
    assert missing.fix is not None and missing.fix.endswith(
        f"data fetch mnist --data-dir {tmp_path}"
    )
    assert corrupt.found and not corrupt.ok
    assert corrupt.error is not None and "unreadable cache file" in corrupt.error


def test_cli_status_exit_codes_and_fix_line(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "status", "mnist", "--data-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "mnist: OK" in out
    assert "train labels per class: 5923 6742 5958" in out

    assert main(["data", "status", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "mnist: MISSING" in out and "fashion-mnist: MISSING" in out
    assert "fix: " in out and f"data fetch fashion-mnist --data-dir {tmp_path}" in out


def test_fix_line_names_the_dlgrade_the_user_typed(tmp_path: Path) -> None:
    """`.venv/bin/dlgrade data status` must print `.venv/bin/dlgrade data fetch ...`."""
    script = Path(sys.executable).parent / "dlgrade"
    if not script.is_file():
        pytest.skip(f"no dlgrade console script beside {sys.executable} (pip install -e . adds it)")
    typed = os.path.relpath(script, tmp_path)  # what a user in tmp_path types: ../.venv/bin/dlgrade
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # the venv is not activated
    done = subprocess.run(
        [typed, "data", "status", "mnist", "--data-dir", "cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    assert f"  fix: {typed} data fetch mnist --data-dir cache\n" in done.stdout
    assert sys.executable not in done.stdout


def test_program_name_follows_the_invocation(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "dlgrade").write_text("#!/bin/sh\n")
    (bin_dir / "dlgrade").chmod(0o755)
    script = str(bin_dir / "dlgrade")
    interpreter = str(bin_dir / "python")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert program_name(".venv/bin/dlgrade", [interpreter, ".venv/bin/dlgrade"]) == (
        ".venv/bin/dlgrade"
    )
    assert program_name(script, [interpreter, script, "data"]) == script
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")  # an activated venv
    assert program_name(script, [interpreter, script, "data"]) == "dlgrade"
    typed = [".venv/bin/python", "-m", "dlgrade", "data", "status"]
    assert program_name("/repo/dlgrade/__main__.py", typed) == ".venv/bin/python -m dlgrade"
    # Called from Python (a test, a notebook): the documented name.
    assert program_name("/usr/lib/pytest", [interpreter, "-m", "pytest"]) == "dlgrade"
