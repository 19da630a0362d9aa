"""A Gradescope /autograder laid out in a temporary folder, and run_autograder run in it.

The zip is unpacked with `unzip` into ROOT/source, run_autograder is copied to
ROOT, setup.sh runs with --no-install (this environment already has the
dependencies; the apt/pip steps are what Gradescope's image build adds), and
run_autograder grades ROOT/submission as root, as Gradescope runs it. The root is
made in a world-traversable folder (as /autograder is), so that what keeps a
notebook out of the harness is the harness's own doing, not the test's temp dir.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dlgrade.lms.gradescope import results_problems


@dataclass(frozen=True)
class AutograderRun:
    data: dict  # results.json
    stdout: str
    returncode: int


def environment(root: Path, cache: Path, path_first: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the zip's harness
    env.update(DLGRADE_AUTOGRADER_ROOT=str(root), DLGRADE_PYTHON=sys.executable)
    env["DLGRADE_DATA"] = str(cache)
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env['PATH']}"
    return env


def shared_folder(prefix: str) -> Path:
    """A fresh folder under /tmp that every user may traverse, as / is for /autograder."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    folder.chmod(0o755)
    return folder


def autograder_root(tmp: Path, archive: Path, cache: Path, submission: Path | None) -> Path:
    """/autograder as Gradescope lays it out, with setup.sh already run."""
    root = tmp / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "submission").mkdir()
    for folder in (root, root / "results", root / "submission"):
        folder.chmod(0o755)
    subprocess.run(["unzip", "-q", str(archive), "-d", str(root / "source")], check=True)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    if submission is not None:
        shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
    setup = subprocess.run(
        ["bash", "setup.sh", "--no-install"],
        cwd=root / "source",
        env=environment(root, cache),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert (root / "source" / "python-path").read_text().strip() == sys.executable
    return root


def run_autograder(
    root: Path, cache: Path, path_first: Path | None = None, expect_code: int = 0
) -> AutograderRun:
    done = subprocess.run(
        [str(root / "run_autograder")],  # executable, as Gradescope calls it
        cwd=root,
        env=environment(root, cache, path_first),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == expect_code, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert results_problems(data) == []
    return AutograderRun(data, done.stdout, done.returncode)


def refusing_bwrap(folder: Path) -> Path:
    """A bin folder whose bwrap fails as an unprivileged container's does."""
    folder.mkdir(parents=True, exist_ok=True)
    refusing = folder / "bwrap"
    refusing.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    refusing.chmod(0o755)
    return folder
