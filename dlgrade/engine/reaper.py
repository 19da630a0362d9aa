"""End every process of a sandbox uid, and prove none is left.

Killing the kernel's process group is not enough outside bubblewrap: a notebook can
double-fork a daemon into a session of its own that outlives the kernel and rewrites
what the grader reads next. Each kernel runs as a uid nobody else uses, so "every
process of that uid" is exactly what the notebook started, wherever it went.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")
# The uids kernels run as (one drawn per run); nothing else on a machine uses them.
SANDBOX_UIDS = range(200_000, 1_000_000)
# Set by a grading process's launcher: a root-only file that collects its kernels' uids.
LEDGER_ENV = "DLGRADE_UID_LEDGER"
LEDGER_NAME = ".uids"


class ReapError(RuntimeError):
    """Processes of a sandbox uid survived every attempt to kill them."""


def uid_processes(uid: int) -> list[int]:
    """Pids of the live (not zombie) processes whose real or effective uid is `uid`."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uids = fields.get("Uid", "").split()
        state = fields.get("State", "").strip()[:1]
        if state != "Z" and str(uid) in uids[:2]:
            found.append(int(entry.name))
    return found


def note_uid(uid: int) -> None:
    """Write `uid` into this grading process's ledger (if its launcher keeps one) before
    a kernel runs as it: a launcher that has to kill this process mid-notebook can then
    still end what the notebook started (reap_ledger)."""
    ledger = os.environ.get(LEDGER_ENV)
    if ledger:
        with open(ledger, "a", encoding="ascii") as handle:
            handle.write(f"{uid}\n")


def reap_ledger(ledger: Path) -> list[int]:
    """Kill every process of the uids in `ledger` (what one grading process's kernels
    ran as); returns those uids."""
    try:
        lines = ledger.read_text("ascii").split()
    except (OSError, UnicodeDecodeError):
        return []
    uids = sorted({int(u) for u in lines if u.isdigit() and int(u) in SANDBOX_UIDS})
    for uid in uids:
        kill_uid(uid)
    ledger.unlink(missing_ok=True)
    return uids


def kill_uid(uid: int, attempts: int = 50) -> None:
    """SIGKILL every process of `uid` until none is left (raises ReapError otherwise).

    A child that becomes `uid` and calls kill(-1) reaches every process of that uid,
    in any session or process group, and nothing else; repeated, it also catches
    processes forked while the previous round ran.
    """
    if uid <= 0:
        raise ValueError(f"refusing to reap uid {uid}")
    for _ in range(attempts):
        if not uid_processes(uid):
            return
        _kill_all_as(uid)
        time.sleep(0.02)
    left = uid_processes(uid)
    if left:
        raise ReapError(f"processes of sandbox uid {uid} survived SIGKILL: pids {left}")


def _kill_all_as(uid: int) -> None:
    pid = os.fork()
    if pid == 0:  # the child: only async-signal-safe work until _exit
        code = 0
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)  # every process this uid may signal, but not us
        except BaseException:
            code = 1
        os._exit(code)
    os.waitpid(pid, 0)
