"""Fault injection for the local batch: kill a part of `dlgrade grade`, resume, count the loss.

    python benchmarks/faults.py [--students 4] [--jobs 2] [--keep DIR]

Builds a class of copies of the full-marks example (answers.toml and the
problem-5 notebook), grades it once undisturbed (the baseline), then for
each fault grades it into a fresh OUT, SIGKILLs one process as soon as a
student is in flight, runs `dlgrade grade` again (the resume) and prints:

    fault | what the TA saw | what was lost

* batch parent: the `dlgrade grade` process itself (a closed laptop, an OOM kill);
* zygote: the pre-warmed grading server its students are forked from;
* one kernel: the Jupyter kernel running one student's notebook.

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
    return [pid for pid, cmd in descendants(batch).items() if "dlgrade.grading.zygote" in cmd][:1]


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
    for fault, target in FAULTS.items():
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
