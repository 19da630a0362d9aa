"""Isolation modes are named and fail closed (dlgrade.engine.isolation).

Without a usable bubblewrap, `dlgrade grade` and `dlgrade check` refuse to run any
notebook unless another mode is named, and write nothing. In `--isolation user`
(root, no namespaces), two students graded at once (`--jobs 2`) cannot reach each
other: one hand-in waits for the other's kernel and goes for its files, its
sockets and its grade.json, and the other's grade stands.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import attacks
import pytest
from autograder_root import refusing_bwrap
from user_mode import user_mode_problem

from dlgrade.engine import isolation

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "submissions" / "examples"


def dlgrade(*args: str, path_first: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "dlgrade", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.mark.parametrize("command", ["grade", "check"])
def test_without_bubblewrap_nothing_runs_unless_a_mode_is_named(tmp_path, command):
    hand_in = tmp_path / "class" / "alice"
    shutil.copytree(EXAMPLES / "fall2023-full-marks", hand_in)
    out = tmp_path / "out"
    args = (
        ["grade", str(hand_in.parent), "--out", str(out)]
        if command == "grade"
        else [
            "check",
            str(hand_in),
        ]
    )
    done = dlgrade(*args, "--quick", path_first=refusing_bwrap(tmp_path / "bin"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bubblewrap cannot create namespaces here" in done.stderr
    assert "--isolation user" in done.stderr and "apt-get install bubblewrap" in done.stderr
    assert not out.exists() and not (hand_in / ".dlgrade").exists()  # nothing written


def test_an_unknown_mode_is_refused_by_name():
    with pytest.raises(Exception, match="unknown isolation mode 'reduced'"):
        isolation.require("reduced")


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="user mode switches uids: it runs as root only")
def test_in_user_mode_one_student_cannot_touch_another(tmp_path):
    problem = user_mode_problem()
    if problem:
        pytest.skip(f"user mode cannot run here: {problem}")
    mark = attacks.marker("classmate")
    school = tmp_path / "class"
    attacker, victim = school / "mallory", school / "alice"
    shutil.copytree(EXAMPLES / "fall2023-misread-dataset2", attacker)
    shutil.copytree(EXAMPLES / "fall2023-full-marks", victim)
    out = tmp_path / "out"
    attacks.with_cell(attacker / "HW1P3.ipynb", attacks.reach_classmate(mark), first=True)
    # and a daemon that rewrites every .unit.json under OUT to full marks for 90 s
    daemon = attacks.marker("batch-daemon")
    attacks.with_cell(attacker / "HW1P3.ipynb", attacks.forge_from_daemon(out, daemon))
    # and the harness this `dlgrade grade` runs from: its reference, checks and code
    read, edit = attacks.marker("repo-read"), attacks.marker("repo-edit")
    secrets = [REPO / "reference" / "relu_fit.py", REPO / "checks" / "test_relu_fit.py"]
    code = [REPO / "dlgrade" / "grading" / "outputs.py", REPO / "checks" / "conftest.py"]
    attacks.with_cell(attacker / "HW1P3.ipynb", attacks.read_files(secrets, read))
    attacks.with_cell(attacker / "HW1P3.ipynb", attacks.append_to(code, edit))
    before = {path: path.read_bytes() for path in code}
    # alice's kernel stays up long enough for mallory to find it
    attacks.with_cell(victim / "HW1P3.ipynb", "import time\ntime.sleep(30)", first=True)
    try:
        done = dlgrade(
            "grade", str(school), "--out", str(out), "--isolation", "user", "--jobs", "2",
            "--problems", "p3", "--quick", "--no-similarity", "--no-progress",
        )  # fmt: skip
    finally:
        changed = [path for path in code if path.read_bytes() != before[path]]
        for path in changed:  # never leave the checkout edited, even when the defence failed
            path.write_bytes(before[path])
    assert changed == []
    assert done.returncode == 0, done.stdout + done.stderr
    mallory = json.loads((out / "mallory" / "grade.json").read_text())
    said = next(o["message"] for o in mallory["observations"] if mark in o["message"])
    assert "'kernel'" in said and "'out'" in said, said  # the attack found its target
    assert "'done'" not in said and "PermissionError" in said, said
    alice = json.loads((out / "alice" / "grade.json").read_text())
    assert {r["part"]: r["status"] for r in alice["results"]} == dict.fromkeys(
        ("3a-1", "3a-2", "3b", "3c", "3d"), "passed"
    )
    assert not [p for p in (out / "alice").rglob("*") if p.is_file() and mark in _text(p)]
    assert (out.stat().st_mode & 0o077) == 0  # OUT is root's alone in this mode
    assert any(daemon in o["message"] for o in mallory["observations"])  # it ran
    assert {r["part"]: r["status"] for r in mallory["results"]}["3a-2"] == "failed"  # honest
    assert attacks.processes_with(daemon) == []  # and was gone before the grades were read
    for mark_of, expected in ((read, "PermissionError"), (edit, "PermissionError")):
        said = next(o["message"] for o in mallory["observations"] if mark_of in o["message"])
        assert expected in said and "written" not in said, said
    text = json.dumps(mallory, ensure_ascii=False)
    reference = [line.strip() for line in secrets[0].read_text().splitlines()]
    assert not [line for line in reference if len(line) > 30 and line in text]


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")
