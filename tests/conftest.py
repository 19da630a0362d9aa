"""Fixtures shared by the harness's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlgrade.data import DataError, data_dir, fetch, load


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding both real datasets: the default one, else fetched into a temp dir."""
    try:
        for name in ("mnist", "fashion-mnist"):
            load(name)
        return data_dir()
    except DataError:
        target = tmp_path_factory.mktemp("data")
        results = fetch(data_dir=target, progress=False)
        assert all(r.ok for r in results), [r.error for r in results]
        return target
