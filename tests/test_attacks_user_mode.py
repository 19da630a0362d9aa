"""Attacks on the Gradescope autograder in its `user` isolation mode, each run as
Gradescope runs it: root, in a folder laid out like /autograder, with a bubblewrap
on PATH that cannot create namespaces (tests/autograder_root.py).

The hand-in is the fall2023 example that misreads dataset 2 in problem 3, with one
attack cell added; its honest score comes from grading it without that cell, in
the same mode. Every attack must leave results.json at the honest score, its
marker out of the harness, and no process of the notebook alive.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sysconfig
import time
from dataclasses import replace
from pathlib import Path

import attacks
import pytest
from autograder_root import autograder_root, refusing_bwrap, run_autograder, shared_folder
from user_mode import user_mode_problem

from dlgrade.autograder.build import build_gradescope_zip
from dlgrade.autograder.config import AutograderConfig
from dlgrade.engine.reaper import SANDBOX_UIDS, uid_processes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="user mode switches uids: it runs as root only"),
]

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "submissions" / "examples" / "fall2023-misread-dataset2"
)
NOTEBOOK = "HW1P3.ipynb"
CONFIG = AutograderConfig(assignment="fall2023", problems=("p3",), quick=True, timeout_s=600)


@pytest.fixture(scope="module")
def user_mode() -> None:
    problem = user_mode_problem()
    if problem:
        pytest.skip(f"user mode cannot run here: {problem}")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, user_mode: None) -> Path:
    target = tmp_path_factory.mktemp("zip") / "autograder.zip"
    build_gradescope_zip(target, CONFIG)
    return target


@pytest.fixture(scope="module")
def no_bwrap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return refusing_bwrap(tmp_path_factory.mktemp("bin"))


@pytest.fixture(scope="module")
def honest(archive: Path, cache: Path, no_bwrap: Path) -> dict:
    """results.json of the hand-in without any attack, in the same mode."""
    root = autograder_root(shared_folder("ag-honest-"), archive, cache, EXAMPLE)
    return run_autograder(root, cache, path_first=no_bwrap).data


def attacked_root(archive: Path, cache: Path) -> Path:
    """A fresh /autograder holding the example; a test adds its attack cell to
    ROOT/submission/NOTEBOOK, once it knows ROOT."""
    return autograder_root(shared_folder("ag-attack-"), archive, cache, EXAMPLE)


def scores(data: dict) -> dict[str, float]:
    return {t["name"].split(":")[0]: t["score"] for t in data["tests"]}


def observed(data: dict, mark: str) -> str:
    """What the attack reported about itself (its observation, in results.json's output)."""
    lines = [line for line in data["output"].splitlines() if mark in line]
    assert lines, f"the attack never ran: no {mark} in\n{data['output']}"
    return "\n".join(lines)


def assert_nothing_left(mark: str, said: str) -> None:
    """No process carries the attack's marker, and none runs as the uid it reported."""
    assert attacks.processes_with(mark) == []
    uid = int(re.search(r"uid', (\d+)\)", said).group(1))
    assert uid in SANDBOX_UIDS and uid_processes(uid) == []


def test_the_answers_cannot_be_read(archive, cache, no_bwrap, honest):
    mark = attacks.marker("read")
    root = attacked_root(archive, cache)
    attacks.with_cell(root / "submission" / NOTEBOOK, attacks.read_answers(root, mark))
    run = run_autograder(root, cache, path_first=no_bwrap)
    said = observed(run.data, mark)
    assert "PermissionError" in said
    reference = (root / "source" / "harness" / "reference" / "relu_fit.py").read_text()
    secret_lines = [line for line in reference.splitlines() if len(line.strip()) > 30]
    text = json.dumps(run.data)
    assert not [line for line in secret_lines if line.strip() in text]
    assert 'assignment = "fall2023"' not in said
    assert scores(run.data) == scores(honest)


def test_the_graders_code_cannot_be_edited(archive, cache, no_bwrap, honest):
    mark = attacks.marker("edit")
    root = attacked_root(archive, cache)
    harness = root / "source" / "harness"
    before = {p: _digest(p) for p in sorted(harness.rglob("*.py"))}
    attacks.with_cell(root / "submission" / NOTEBOOK, attacks.edit_grader(root, mark))
    planted = Path(sysconfig.get_paths()["purelib"]) / "usercustomize.py"
    assert not planted.exists()
    try:
        run = run_autograder(root, cache, path_first=no_bwrap)
    finally:
        planted_now = planted.exists()
        planted.unlink(missing_ok=True)  # never leave it in the environment if it got there
    assert not planted_now
    said = observed(run.data, mark)
    assert "written" not in said and "PermissionError" in said
    assert {p: _digest(p) for p in before} == before
    assert scores(run.data) == scores(honest) and run.data["score"] == honest["score"]


def test_a_daemon_cannot_forge_the_unit_record_or_results(archive, cache, no_bwrap, honest):
    mark = attacks.marker("daemon")
    root = attacked_root(archive, cache)
    attacks.with_cell(root / "submission" / NOTEBOOK, attacks.forge_from_daemon(root, mark))
    run = run_autograder(root, cache, path_first=no_bwrap)
    said = observed(run.data, mark)
    assert scores(run.data) == scores(honest) and run.data["score"] == honest["score"]
    time.sleep(2)  # a surviving daemon would rewrite results.json by now
    final = json.loads((root / "results" / "results.json").read_text())
    assert final == run.data  # what the grader wrote, unchanged
    assert_nothing_left(mark, said)


def test_results_cannot_be_made_immutable(archive, cache, no_bwrap, honest):
    mark = attacks.marker("chattr")
    root = attacked_root(archive, cache)
    attacks.with_cell(root / "submission" / NOTEBOOK, attacks.immutable_results(root, mark))
    run = run_autograder(root, cache, path_first=no_bwrap)
    said = observed(run.data, mark)
    assert "PermissionError" in said  # neither the forged write nor chattr got through
    assert run.data["score"] == honest["score"] and mark not in json.dumps(run.data["tests"])
    attributes = subprocess.run(
        ["lsattr", str(root / "results" / "results.json")], capture_output=True, text=True
    )
    assert "i" not in attributes.stdout.split()[0] if attributes.returncode == 0 else True


def test_the_network_is_out_of_reach(archive, cache, no_bwrap, honest):
    mark = attacks.marker("net")
    listener = attacks.Listener.start()
    try:
        root = attacked_root(archive, cache)
        attacks.with_cell(
            root / "submission" / NOTEBOOK, attacks.reach_network(listener.port, mark)
        )
        run = run_autograder(root, cache, path_first=no_bwrap)
    finally:
        listener.close()
    said = observed(run.data, mark)
    assert "connected" not in said and "sent" not in said
    assert listener.received == []
    assert run.data["score"] == honest["score"]


def test_without_isolation_the_same_attacks_succeed(tmp_path, cache, no_bwrap):
    """The control: in mode `none` (asked for by name), the notebook runs as root and the
    read and network attacks above get through, so those tests can fail."""
    archive = tmp_path / "none.zip"
    build_gradescope_zip(archive, replace(CONFIG, isolation="none"))
    read, net = attacks.marker("read"), attacks.marker("net")
    listener = attacks.Listener.start()
    try:
        root = attacked_root(archive, cache)
        for cell in (attacks.read_answers(root, read), attacks.reach_network(listener.port, net)):
            attacks.with_cell(root / "submission" / NOTEBOOK, cell)
        run = run_autograder(root, cache, path_first=no_bwrap)
    finally:
        listener.close()
    opening = (root / "source" / "harness" / "reference" / "relu_fit.py").read_text()[:40]
    assert repr(opening)[1:-1] in observed(run.data, read)  # the reference, shown to the student
    assert "connected" in observed(run.data, net) and listener.received
    assert run.data["extra_data"]["isolation"].startswith("none: no isolation")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
