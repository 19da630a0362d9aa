"""Write a Gradescope autograder zip: setup.sh, run_autograder, autograder.toml and the harness.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once while
building its image, and runs run_autograder (copied to /autograder) for each
submission. The harness is copied from this checkout, so the zip grades with
exactly the checks and references that are here.
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from importlib.resources import files
from pathlib import Path

from dlgrade.autograder.config import CONFIG_FILE, AutograderConfig, AutograderError
from dlgrade.data.atomic import atomic_output

HARNESS_DIR = "harness"
# What the checks need at grading time; tests/, submissions/ and docs stay out.
HARNESS_FILES = ("pyproject.toml", "README.md", "conftest.py")
HARNESS_PACKAGES = ("dlgrade", "checks", "reference", "reports")
SKIPPED = ("__pycache__", ".egg-info", ".pyc")
EXECUTABLE = 0o755


def repository_root() -> Path:
    """The checkout this dlgrade runs from (the zip copies its packages)."""
    root = Path(__file__).resolve().parents[2]
    missing = [n for n in (*HARNESS_FILES, *HARNESS_PACKAGES) if not (root / n).exists()]
    if missing:
        raise AutograderError(
            f"{root} is not a dlgrade checkout (missing {', '.join(missing)}); build the "
            "autograder from a clone of the repository (pip install -e .)"
        )
    return root


def harness_paths(root: Path) -> list[Path]:
    """Every file the zip's harness/ gets, relative to `root`."""
    paths = [Path(name) for name in HARNESS_FILES]
    for package in HARNESS_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not any(s in part for part in relative.parts for s in SKIPPED):
                paths.append(relative)
    return paths


def torch_pins(pyproject: Path) -> str:
    """'torch==X torchvision==Y' as pinned in pyproject.toml (setup.sh installs CPU builds)."""
    dependencies = tomllib.loads(pyproject.read_text("utf-8"))["project"]["dependencies"]
    pins = [d for d in dependencies if re.match(r"^(torch|torchvision)==", d)]
    if len(pins) != 2:
        raise AutograderError(f"{pyproject}: expected exact pins for torch and torchvision")
    return " ".join(sorted(pins))


def template(name: str) -> str:
    return files("dlgrade.autograder").joinpath("templates", name).read_text("utf-8")


def build_gradescope_zip(target: Path, config: AutograderConfig) -> list[str]:
    """Write the zip to `target` (atomically); the member names, for the caller to show."""
    root = repository_root()
    setup = template("setup.sh").replace("@TORCH_PINS@", torch_pins(root / "pyproject.toml"))
    with (
        atomic_output(target, fsync=False) as tmp,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        _add_text(zf, "setup.sh", setup, EXECUTABLE)
        _add_text(zf, "run_autograder", template("run_autograder"), EXECUTABLE)
        _add_text(zf, CONFIG_FILE, config.to_toml(), 0o644)
        for relative in harness_paths(root):
            zf.write(root / relative, f"{HARNESS_DIR}/{relative.as_posix()}")
        names = zf.namelist()
    return names


def _add_text(zf: zipfile.ZipFile, name: str, text: str, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2023, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permission bits
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)
