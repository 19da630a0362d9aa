"""Pin OpenBLAS to one thread while per-sample numpy training runs.

Per-sample SGD calls BLAS ~6 times per sample on matrices of ~25 000 entries:
just above OpenBLAS's threading threshold, so by default it wakes a thread
pool for microseconds of work. On a loaded 2-core machine that made a step
30x slower (measured: 43 µs single-threaded vs 1340 µs with 2 threads), and
the slowdown depends on what else runs. numpy and scipy each ship their own
OpenBLAS, so both are pinned. This does what `threadpoolctl` does, for the
two libraries we load, without adding a dependency; where no OpenBLAS is
found (other BLAS, other OS) it changes nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# (get, set) symbol pairs of the OpenBLAS builds numpy/scipy wheels ship, and of
# a plain system OpenBLAS.
_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


def _loaded_openblas() -> list[Path]:
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = {
        line.split()[-1] for line in maps.read_text().splitlines() if "openblas" in line.lower()
    }
    return sorted(Path(p) for p in paths if p.startswith("/"))


def _controls() -> list[tuple[ctypes._CFuncPtr, ctypes._CFuncPtr]]:
    controls = []
    for path in _loaded_openblas():
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            continue  # mapped but not loadable by name: leave it alone
        for get_name, set_name in _SYMBOLS:
            if hasattr(library, get_name) and hasattr(library, set_name):
                controls.append((getattr(library, get_name), getattr(library, set_name)))
                break
    return controls


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the body with every loaded OpenBLAS at 1 thread, then restore."""
    controls = _controls()
    previous = [get() for get, _ in controls]
    for _, set_threads in controls:
        set_threads(1)
    try:
        yield
    finally:
        for (_, set_threads), count in zip(controls, previous, strict=True):
            set_threads(count)
