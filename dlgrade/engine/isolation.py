"""The three isolation modes, whether each can run here, and what each does not protect.

* `bwrap` (the default): the kernel in new namespaces under bubblewrap (see sandbox.py).
* `user`: no namespaces (Gradescope's containers, nodes with user namespaces off); the
  grader runs as root and each kernel as a fresh unprivileged uid with no new privileges
  and no network sockets (a seccomp filter); the grader's files are root-only
  (dlgrade.grading.lockdown) and every process of the uid is killed when the run ends.
* `none`: the kernel as the grader's own user; only when named, and every record says so.

A mode that cannot run here is refused with the reason and the fix: there is no
silent fall-back from one mode to a weaker one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Literal

from dlgrade.engine.errors import SandboxUnavailable

Isolation = Literal["bwrap", "user", "none"]
MODES: tuple[Isolation, ...] = ("bwrap", "user", "none")
PROBE_UID = 65534  # "nobody": any unprivileged uid shows what a sandbox uid may read

# What each mode's records say (GradeRecord.isolation), and what it leaves open.
DESCRIPTIONS: dict[str, str] = {
    "bwrap": "bubblewrap",
    "user": "user: unprivileged uid per notebook, no network sockets, grader files root-only "
    "(no namespaces: the rest of the machine's world-readable files are visible)",
    "none": "none: no isolation (asked for with --isolation none): the notebooks ran as the "
    "grader's user; network blocked only by an in-process guard",
}

FIX_BWRAP = (
    "install it (apt-get install bubblewrap) and allow unprivileged user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0), or run "
    "as root with --isolation user (an unprivileged uid per notebook; for containers such as "
    "Gradescope's), or accept no isolation with --isolation none"
)


@cache  # a process runs several notebooks; the answer does not change under it
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot run here, or None when it can."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap (bwrap) is not installed"
    probe = [binary, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return f"bubblewrap could not be started: {err}"
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return "bubblewrap cannot create namespaces here" + (f" ({said[-1]})" if said else "")
    return None


@cache
def user_problem() -> str | None:
    """Why the unprivileged-user mode cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return (
            "--isolation user switches each kernel to an unprivileged uid, which needs root "
            f"(this process runs as uid {os.geteuid()})"
        )
    try:
        import pyseccomp  # noqa: F401  (the launcher loads the network filter with it)
    except (ImportError, OSError) as err:  # OSError: libseccomp itself is missing
        return f"the seccomp library the network filter needs is missing ({err})"
    return interpreter_problem()


def interpreter_problem() -> str | None:
    """Whether an unprivileged uid can run this Python and import what a kernel needs:
    an interpreter under root's 0700 home (pyenv in /root) cannot serve as a kernel."""
    check = [sys.executable, "-c", "import ctypes, ipykernel, numpy"]
    try:
        done = subprocess.run(
            check,
            capture_output=True,
            timeout=120,
            user=PROBE_UID,
            group=PROBE_UID,
            extra_groups=[],
        )
    except (OSError, subprocess.SubprocessError) as err:
        return f"could not start {sys.executable} as an unprivileged uid: {err}"
    if done.returncode == 0:
        return None
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    blocked = [str(p) for p in Path(sys.executable).resolve().parents if not _traversable(p)]
    fix = f"chmod o+x {' '.join(blocked)}" if blocked else "make it readable by all users"
    return (
        f"an unprivileged uid cannot run the kernel's Python {sys.executable} "
        f"({said[-1] if said else f'exit code {done.returncode}'}): {fix}, or install "
        "dlgrade with a Python outside root's home (e.g. /usr/bin/python3.11)"
    )


def _traversable(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o001)


def mode_problem(mode: str) -> str | None:
    """Why `mode` cannot run on this machine (None: it can)."""
    if mode not in MODES:
        return f"unknown isolation mode {mode!r}; choose one of {', '.join(MODES)}"
    if mode == "bwrap":
        return bwrap_problem()
    if mode == "user":
        return user_problem()
    return None


def require(mode: str) -> None:
    """Refuse a mode that cannot run here, saying why and how to fix it."""
    problem = mode_problem(mode)
    if problem is None:
        return
    if mode == "bwrap":
        raise SandboxUnavailable(f"isolation 'bwrap': {problem}; {FIX_BWRAP}")
    if mode == "user":
        raise SandboxUnavailable(
            f"isolation 'user': {problem}; run the grader as root "
            "(Gradescope's run_autograder does), or use --isolation bwrap where bubblewrap works"
        )
    raise SandboxUnavailable(problem)
