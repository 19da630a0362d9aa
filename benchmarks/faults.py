"""Fault injection for the local batch: kill a part of `dlgrade grade`, resume, count the loss.

    python benchmarks/faults.py [--students 4] [--jobs 2] [--keep DIR] [--fault NAME ...]

Builds a class of copies of the full-marks example (answers.toml and the
problem-5 notebook), grades it once undisturbed (the baseline), then for
each fault grades it into a fresh OUT, SIGKILLs one process as soon as a
student is in flight, runs `dlgrade grade` again (the resume) and prints:

    fault | what the TA saw | what was lost

* batch parent: the `dlgrade grade` process itself (a closed laptop, an OOM kill);
* zygote: the pre-warmed grading server its students are forked from;
* one kernel: the Jupyter kernel running one student's notebook;
* full disk on OUT: OUT on a tmpfs of half the baseline's OUT, so that writing
  fills it mid-batch; the resume runs after a remount gives it room (needs
  root; the row says why when the mount is refused).

"What was lost" compares every student's final grade.json with the
baseline's (status and total); it must read "nothing". Figures and outcomes
are printed, never asserted; a run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLE = REPOSITORY / "submissions" / "examples" / "fall2023-full-marks"
FILES = ("answers.toml", "dlf23_hw1_prob5.ipynb")
WAIT_S = 600.0  # for a target to appear, and for one run to end


@dataclass(frozen=True)
class Outcome:
    fault: str
    seen: str  # what the TA saw: exit codes and the summary's first and "to look at" lines
    lost: str  # students whose final grade differs from the baseline, or "nothing"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--students", type=int, default=4, help="class size (default 4)")
    parser.add_argument("--jobs", type=int, default=2, help="students at once (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the class and OUTs here")
    parser.add_argument(
        "--fault", action="append", choices=[*FAULTS, FULL_DISK], help="only these (repeatable)"
    )
    return parser.parse_args(argv)


def make_class(root: Path, students: int) -> None:
    for number in range(1, students + 1):
        folder = root / f"student{number}"
        folder.mkdir(parents=True)
        for name in FILES:
            shutil.copy(EXAMPLE / name, folder / name)


def grade_command(root: Path, out: Path, jobs: int) -> list[str]:
    command = [sys.executable, "-m", "dlgrade", "grade", str(root), "--out", str(out)]
    return command + ["--jobs", str(jobs), "--quick", "--problems", "p2,p5", "--no-progress"]


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) for every process we can read."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found[int(entry.name)] = (ppid, cmdline)
    return found


def descendants(root: int) -> dict[int, str]:
    table = processes()
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cmdline) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = cmdline
                frontier.append(pid)
    return found


def batch_parent(batch: int) -> list[int]:
    return [batch]


def zygote(batch: int) -> list[int]:
    return [
        pid for pid, cmd in descendants(batch).items() if "dlgrade.grading.zygote_server" in cmd
    ][:1]


def one_kernel(batch: int) -> list[int]:
    # The kernel's Python (inside bubblewrap when there is one), not the sandbox around it.
    kernels = [
        pid
        for pid, cmd in descendants(batch).items()
        if "ipykernel" in cmd and not cmd.startswith(("bwrap", "/usr/bin/bwrap"))
    ]
    return kernels[:1]


FAULTS: dict[str, Callable[[int], list[int]]] = {
    "batch parent": batch_parent,
    "zygote": zygote,
    "one kernel": one_kernel,
}


FULL_DISK = "full disk on OUT"
PAGE = 4096


def out_bytes(out: Path) -> int:
    """What a graded OUT holds, in whole pages as a tmpfs counts it."""
    files = [path for path in out.rglob("*") if path.is_file()]
    return sum(-(-path.stat().st_size // PAGE) * PAGE for path in files)


def mount_tmpfs(where: Path, size: int, remount: bool = False) -> str:
    """Mount (or resize) a tmpfs of `size` bytes at `where`; why not, or ""."""
    where.mkdir(parents=True, exist_ok=True)
    options = ("remount," if remount else "") + f"size={size}"
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        return "no mount command"
    return "" if done.returncode == 0 else (done.stderr.strip() or f"mount exit {done.returncode}")


def run_full_disk(
    command: list[str], out: Path, baseline_bytes: int
) -> tuple[str, dict[str, tuple[str, float]] | None]:
    """Grade into OUT on a tmpfs too small for the class, grow it, resume: (what the TA saw,
    the final grades), or (why not, None) when no tmpfs could be mounted."""
    disk = out.parent
    refused = mount_tmpfs(disk, max(baseline_bytes // 2, 16 * PAGE))
    if refused:
        return f"skipped: tmpfs not mounted ({refused})", None
    try:
        code, stdout = run(command)
        half = len(list(out.rglob("*.part")))
        seen = f"exit {code}; {_said(stdout)}{_full_line(stdout)}; half-written files: {half}"
        refused = mount_tmpfs(disk, baseline_bytes * 4 + (64 << 20), remount=True)
        if refused:
            return seen + f"; no resume: the tmpfs could not be grown ({refused})", grades(out)
        code, stdout = run(command)  # the resume, with room
        seen += f"; resume: exit {code}; {_said(stdout)}{_full_line(stdout)}"
        return seen, grades(out)  # read before the tmpfs goes
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=60)


def _full_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("OUT IS FULL")]
    return " / " + lines[0].split("; no grade")[0] if lines else ""


def run(command: list[str]) -> tuple[int, str]:
    done = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=WAIT_S)
    return done.returncode, done.stdout


def run_with_fault(command: list[str], out: Path, target: Callable[[int], list[int]]) -> str:
    """Run `command`, SIGKILL what `target` names once a student is graded; what it printed."""
    batch = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, text=True)
    deadline, killed = time.monotonic() + WAIT_S, []
    while not killed and batch.poll() is None and time.monotonic() < deadline:
        started = list(out.glob("*/grading.log"))
        pids = target(batch.pid) if started else []
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed = pids
        time.sleep(0.2)
    stdout, _ = batch.communicate(timeout=WAIT_S)
    what = "killed" if killed else "never found (the run ended first)"
    return f"target {what}; exit {batch.returncode}; " + _said(stdout)


def _said(stdout: str) -> str:
    lines = stdout.strip().splitlines()
    kept = [line for line in lines if line.startswith(("graded ", "to look at"))]
    return " / ".join(line.split(";")[0] for line in kept) or "(nothing printed)"


def grades(out: Path) -> dict[str, tuple[str, float]]:
    found = {}
    for path in sorted(out.glob("*/grade.json")):
        data = json.loads(path.read_text())
        found[path.parent.name] = (data["status"], data["total"])
    return found


def lost(baseline: dict[str, tuple[str, float]], final: dict[str, tuple[str, float]]) -> str:
    differ = [
        f"{name}: {final.get(name, ('missing', 0.0))} instead of {grade}"
        for name, grade in sorted(baseline.items())
        if final.get(name) != grade
    ]
    return "; ".join(differ) or "nothing"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="dlgrade-faults-"))
    root = work / "class"
    make_class(root, args.students)
    code, stdout = run(grade_command(root, work / "baseline", args.jobs))
    baseline = grades(work / "baseline")
    print(f"baseline: exit {code}; {_said(stdout)}", flush=True)
    outcomes = []
    chosen = args.fault or [*FAULTS, FULL_DISK]
    if FULL_DISK in chosen:
        out = work / "disk" / "out"
        command = grade_command(root, out, args.jobs)
        seen, final = run_full_disk(command, out, out_bytes(work / "baseline"))
        outcomes.append(Outcome(FULL_DISK, seen, "n/a" if final is None else lost(baseline, final)))
        print(f"{FULL_DISK}: done", flush=True)
    for fault, target in FAULTS.items():
        if fault not in chosen:
            continue
        out = work / fault.replace(" ", "-")
        command = grade_command(root, out, args.jobs)
        seen = run_with_fault(command, out, target)
        code, stdout = run(command)  # the resume
        seen += f"; resume: exit {code}; {_said(stdout)}"
        outcomes.append(Outcome(fault, seen, lost(baseline, grades(out))))
        print(f"{fault}: done", flush=True)
    print("\n| fault | what the TA saw | what was lost |\n|---|---|---|")
    for outcome in outcomes:
        print(f"| {outcome.fault} | {outcome.seen} | {outcome.lost} |")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
