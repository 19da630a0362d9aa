"""Every benchmark starts as the README runs it: `python benchmarks/NAME.py`.

Run as a script, a benchmark's folder is sys.path[0], so a module there named
like a package of the project (benchmarks/reference.py once was) shadows that
package and the script dies on import. `--help` imports everything and runs
nothing long.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PACKAGES = ("dlgrade", "reference", "checks", "reports")


def scripts() -> list[Path]:
    return sorted(p for p in BENCHMARKS.glob("*.py") if "__main__" in p.read_text())


def test_no_benchmark_module_shadows_a_package():
    assert scripts(), "no benchmark scripts found"
    assert {p.stem for p in BENCHMARKS.glob("*.py")}.isdisjoint(PACKAGES)


@pytest.mark.parametrize("script", scripts(), ids=lambda p: p.name)
def test_benchmark_starts(script: Path):
    run = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=BENCHMARKS.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "usage:" in run.stdout
