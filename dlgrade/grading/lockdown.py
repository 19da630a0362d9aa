"""The `user` isolation mode's precondition: the grader's own files are root's alone.

Without namespaces a kernel sees the real file system, so what keeps the answers
and the grades from it is ownership and mode bits. Before any student code runs,
the harness (its packages, the checkout they sit in, with its tests, examples and
history), the grader's derived cache and OUT lose every permission for group and
others; then an unprivileged uid tries to read each of them, and grading stops if it
can. Only the virtual environment the kernels run from is left readable.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dlgrade.engine import isolation
from dlgrade.engine.isolation import PROBE_UID

HARNESS_PACKAGES = ("dlgrade", "checks", "reference", "reports")


class LockdownError(RuntimeError):
    """A grader path stays readable by an unprivileged uid."""


@dataclass(frozen=True)
class Lockdown:
    """What was made root-only, for the command to say."""

    paths: tuple[Path, ...]

    def summary(self) -> str:
        return f"isolation user: {len(self.paths)} grader path(s) are root-only (mode 0700/0600)"


def harness_paths(checks_dir: Path | None = None) -> list[Path]:
    """The harness's files: each package, and every entry of a checkout holding them
    (tests, examples, .git) except the virtual environment the kernels need."""
    packages = {_package_dir(name) for name in HARNESS_PACKAGES}
    if checks_dir is not None:
        packages.add(Path(checks_dir).resolve())
    paths = set(packages)
    venv = Path(sys.prefix).resolve()
    for root in {p.parent for p in packages}:
        if (root / "pyproject.toml").is_file():  # a checkout, not site-packages
            paths |= {e for e in root.iterdir() if not _holds(e.resolve(), venv)}
    return sorted(paths)


def lock_down(paths: Iterable[Path]) -> Lockdown:
    """Take group and other permissions from each path (not recursive: a directory
    closed at the top closes everything below it), then prove an unprivileged uid
    can read none of them."""
    locked = []
    for path in paths:
        if path.is_symlink() or not path.exists():
            continue  # a link's own mode means nothing; what it points to is listed itself
        path.chmod(path.stat().st_mode & 0o700)
        locked.append(path)
    readable = readable_by_others(locked)
    if readable:
        raise LockdownError(
            "isolation user: an unprivileged uid can still read "
            + ", ".join(str(p) for p in readable[:5])
            + " (a path above it is shared, or a link points there); grading would expose it"
        )
    return Lockdown(tuple(locked))


def readable_by_others(paths: list[Path]) -> list[Path]:
    """The paths that uid PROBE_UID can list or open (checked by really trying, as it)."""
    if not paths:
        return []
    code = (
        "import os, sys\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').close()\n"
        "        print(p)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        user=PROBE_UID,
        group=PROBE_UID,
        extra_groups=[],
        check=True,
    )
    return [Path(line) for line in done.stdout.splitlines() if line]


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # found, not imported: checks import this package
    if spec is None or not spec.submodule_search_locations:
        raise LockdownError(f"the harness package {name!r} cannot be found")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _holds(path: Path, inner: Path) -> bool:
    return inner == path or path in inner.parents


def prepare(
    mode: str,
    protect: Iterable[Path] = (),
    outputs: Iterable[Path] = (),
    checks_dir: Path | None = None,
) -> Lockdown | None:
    """Refuse a mode that cannot run here (SandboxUnavailable, with the fix); in user mode,
    make the harness, the derived cache, `protect` (the class, the hand-in) and `outputs`
    (OUT; created root-only when missing) readable by root alone.

    Call it before any student code runs; it writes nothing when the mode is refused.
    """
    isolation.require(mode)
    if mode != "user":
        return None
    from dlgrade.data import data_dir

    made = [data_dir() / "derived", *map(Path, outputs)]
    for folder in made:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return lock_down([*harness_paths(checks_dir), *map(Path, protect), *made])
