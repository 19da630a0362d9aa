"""The per-run directories: working copy, probe inputs, out dir, connection dir; data root.

Layout of one run (a private temp dir, removed afterwards):
    run/work  the submission's copy (read-write in the sandbox; HOME and cwd)
    run/in    probe inputs (read-only in the sandbox)
    run/out   what the kernel reports: probe values, figure and observation logs
    run/conn  the kernel's connection file and ipc sockets
    run/tmp   the kernel's TMPDIR when it has no private /tmp (isolation modes user, none)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dlgrade.engine.config import SandboxConfig

# torchvision roots students commonly pass; any other root is served by the in-kernel patch.
TORCHVISION_ROOTS = (".", "data", "FashionMNIST", "MNIST")
DATASET_FOLDERS = ("MNIST", "FashionMNIST")
KERAS_FILE = Path(".keras", "datasets", "mnist.npz")
_COMPLETE = ".complete"


class DataUnavailable(RuntimeError):
    """The datasets could not be provisioned (the message says how to fetch them)."""


@dataclass(frozen=True)
class RunDirs:
    root: Path
    work: Path
    inputs: Path
    out: Path
    conn: Path
    tmp: Path

    @classmethod
    def create(cls) -> RunDirs:
        root = Path(tempfile.mkdtemp(prefix="dlgrade-run-"))
        dirs = cls(root, root / "work", root / "in", root / "out", root / "conn", root / "tmp")
        for path in (dirs.inputs, dirs.out, dirs.conn, dirs.tmp):
            path.mkdir()
        return dirs

    def hand_over(self, uid: int) -> None:
        """Make the kernel's directories the sandbox uid's alone.

        The run's root stays root's and only traversable (0711): another uid must know
        the random names to reach in, and finds every directory it could use closed
        (0700), so one kernel cannot read another's files or reach its sockets. The
        probe inputs stay root's, readable by the uid's group only.
        """
        self.root.chmod(0o711)
        for path in (self.work, self.out, self.conn, self.tmp):
            give_to(path, uid)
            path.chmod(0o700)
        for parent, _, files in os.walk(self.inputs):
            for name in files:
                os.chown(Path(parent, name), 0, uid)
                Path(parent, name).chmod(0o640)
        os.chown(self.inputs, 0, uid)
        self.inputs.chmod(0o750)

    def remove(self) -> None:
        shutil.rmtree(self.root)


def copy_submission(folder: Path, work: Path) -> None:
    """Copy the student's folder; symlinks stay links (they resolve to nothing in bwrap)."""
    shutil.copytree(folder, work, symlinks=True)


def give_to(path: Path, uid: int) -> None:
    """Make a run directory tree owned by the sandbox's unprivileged uid."""
    os.lchown(path, uid, uid)
    for parent, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(Path(parent, name), uid, uid)


def data_root(config: SandboxConfig) -> Path:
    """A read-only, shared provisioned copy of the datasets for these limits (made once)."""
    from dlgrade.data import DataError, data_dir, provision

    source = Path(config.data_dir) if config.data_dir else data_dir()
    train, test = config.effective_train_limit, config.effective_test_limit
    key = hashlib.sha256(f"{source.resolve()}|{train}|{test}".encode()).hexdigest()[:16]
    root = Path(tempfile.gettempdir()) / f"dlgrade-engine-{os.getuid()}" / f"data-{key}"
    if (root / _COMPLETE).is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=root.parent))
    try:
        provision(staging, data_dir=source, train_limit=train, test_limit=test)
    except DataError as err:
        shutil.rmtree(staging)
        raise DataUnavailable(str(err)) from err
    world_readable(staging)
    (staging / _COMPLETE).touch()
    try:
        staging.rename(root)
    except OSError:
        shutil.rmtree(staging)  # another process finished first; its copy is identical
    return root


def link_data(work: Path, data: Path) -> None:
    """Point the usual dataset locations in the working copy at the shared data root."""
    for base in TORCHVISION_ROOTS:
        for name in DATASET_FOLDERS:
            _link(work / base / name / "raw", data / name / "raw")
    _link(work / KERAS_FILE, data / KERAS_FILE)


def _link(link: Path, target: Path) -> None:
    if link.exists() or link.is_symlink() or not target.exists():
        return  # the student's own files win
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def world_readable(root: Path) -> None:
    root.chmod(0o755)
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            Path(parent, name).chmod(0o755)
        for name in files:
            Path(parent, name).chmod(0o644)
