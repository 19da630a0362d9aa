"""The Gradescope autograder zip, run as Gradescope would, in a temporary /autograder.

The zip is unpacked with `unzip` into ROOT/source, run_autograder is copied
to ROOT, setup.sh runs with --no-install (this environment already has the
dependencies; the apt/pip steps are what Gradescope's image build adds), and
run_autograder grades a shipped example from ROOT/submission. results.json is
checked against Gradescope's documented format and for the example's known
mistake. One run puts a bubblewrap on PATH that cannot create namespaces,
which is what a Docker container without privileges gives, to show the
fall-back to reduced isolation is recorded where students and TAs see it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dlgrade.autograder.build import build_gradescope_zip
from dlgrade.autograder.config import AutograderConfig
from dlgrade.lms.gradescope import results_problems

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
CONFIG = AutograderConfig(assignment="fall2023", problems=("p3",), quick=True, timeout_s=900)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("zip") / "autograder.zip"
    build_gradescope_zip(target, CONFIG)
    return target


def _environment(root: Path, cache: Path, path_first: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the zip's harness
    env.update(DLGRADE_AUTOGRADER_ROOT=str(root), DLGRADE_PYTHON=sys.executable)
    env["DLGRADE_DATA"] = str(cache)
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env['PATH']}"
    return env


def autograder_root(tmp: Path, archive: Path, cache: Path, submission: Path | None) -> Path:
    """/autograder as Gradescope lays it out, with setup.sh already run."""
    root = tmp / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "submission").mkdir()
    subprocess.run(["unzip", "-q", str(archive), "-d", str(root / "source")], check=True)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    if submission is not None:
        shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
    setup = subprocess.run(
        ["bash", "setup.sh", "--no-install"],
        cwd=root / "source",
        env=_environment(root, cache),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert (root / "source" / "python-path").read_text().strip() == sys.executable
    return root


def run_autograder(root: Path, cache: Path, path_first: Path | None = None) -> tuple[dict, str]:
    done = subprocess.run(
        [str(root / "run_autograder")],  # executable, as Gradescope calls it
        cwd=root,
        env=_environment(root, cache, path_first),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert results_problems(data) == []
    return data, done.stdout


def test_the_zip_has_gradescope_files_at_its_root(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = zf.namelist()
        modes = {n: zf.getinfo(n).external_attr >> 16 for n in ("setup.sh", "run_autograder")}
        setup = zf.read("setup.sh").decode()
        config = zf.read("autograder.toml").decode()
    assert all(mode & 0o111 for mode in modes.values())  # executable once unzipped
    assert "harness/checks/conftest.py" in names and "harness/reference/relu_fit.py" in names
    assert not [n for n in names if n.startswith(("harness/tests/", "harness/submissions/"))]
    assert not [n for n in names if "__pycache__" in n]
    assert "torch==2.14.1 torchvision==0.29.1" in setup and "@TORCH_PINS@" not in setup
    assert AutograderConfig.load(_write(autograder_zip.parent / "c.toml", config)) == CONFIG


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.slow
def test_run_autograder_grades_an_example_into_valid_results(tmp_path, autograder_zip, cache):
    submission = EXAMPLES / "fall2023-misread-dataset2"
    root = autograder_root(tmp_path, autograder_zip, cache, submission)
    data, stdout = run_autograder(root, cache)
    assert f"checks: {root / 'source' / 'harness' / 'checks'}" in stdout  # the zip's own checks
    tests = {t["name"].split(":")[0]: t for t in data["tests"]}
    assert sorted(tests) == ["3a-1", "3a-2", "3b", "3c", "3d"]
    assert data["score"] == 16.0
    assert tests["3a-2"]["status"] == "failed" and tests["3a-2"]["score"] == 0
    assert "slope is 0.5" in tests["3a-2"]["output"]  # the diagnosis, not just a verdict
    assert tests["3a-1"]["status"] == "passed" and tests["3a-1"]["max_score"] == 4
    assert all(t["visibility"] == "visible" for t in data["tests"])
    assert "Sandbox: bubblewrap" in data["output"]
    assert "3a-2     0/4  failed" in stdout  # the instructors' view


@pytest.mark.slow
def test_without_usable_bubblewrap_the_results_say_isolation_was_reduced(
    tmp_path, autograder_zip, cache
):
    fake = tmp_path / "bin"
    fake.mkdir()
    refusing = fake / "bwrap"
    refusing.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    refusing.chmod(0o755)
    root = autograder_root(tmp_path, autograder_zip, cache, EXAMPLES / "fall2023-full-marks")
    data, _ = run_autograder(root, cache, path_first=fake)
    assert data["score"] == 20.0  # graded all the same
    assert "Sandbox: reduced" in data["output"]
    assert "cannot create namespaces" in data["output"]
    assert data["extra_data"]["isolation"].startswith("reduced")


def test_an_empty_submission_still_gets_results(tmp_path, autograder_zip, cache):
    root = autograder_root(tmp_path, autograder_zip, cache, None)
    data, _ = run_autograder(root, cache)
    assert data["score"] == 0 and data["tests"] == []
    assert "no files were submitted" in data["output"]
