"""The Gradescope autograder zip, run as Gradescope would, in a temporary /autograder
(tests/autograder_root.py).

run_autograder grades a shipped example from ROOT/submission. results.json is
checked against Gradescope's documented format and for the example's known
mistake. The zip's default isolation is `user` (Gradescope's containers refuse
namespaces); a bubblewrap on PATH that cannot create them, as a Docker container
without privileges gives, changes nothing there, while a zip built for bwrap
refuses to run the notebooks and says why, instead of falling back on its own.
The attacks a student could make in user mode are in tests/test_attacks_user_mode.py.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from autograder_root import autograder_root, refusing_bwrap, run_autograder, shared_folder

from dlgrade.autograder.build import build_gradescope_zip
from dlgrade.autograder.config import AutograderConfig
from dlgrade.autograder.run import ResultsNotWritten, write_results

EXAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "examples"
CONFIG = AutograderConfig(assignment="fall2023", problems=("p3",), quick=True, timeout_s=900)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("zip") / "autograder.zip"
    build_gradescope_zip(target, CONFIG)
    return target


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
def test_run_autograder_grades_an_example_into_valid_results(autograder_zip, cache):
    submission = EXAMPLES / "fall2023-misread-dataset2"
    root = autograder_root(shared_folder("ag-"), autograder_zip, cache, submission)
    run = run_autograder(root, cache)
    data, stdout = run.data, run.stdout
    assert f"checks: {root / 'source' / 'harness' / 'checks'}" in stdout  # the zip's own checks
    tests = {t["name"].split(":")[0]: t for t in data["tests"]}
    assert sorted(tests) == ["3a-1", "3a-2", "3b", "3c", "3d"]
    assert data["score"] == 16.0
    assert tests["3a-2"]["status"] == "failed" and tests["3a-2"]["score"] == 0
    assert "slope is 0.5" in tests["3a-2"]["output"]  # the diagnosis, not just a verdict
    assert tests["3a-1"]["status"] == "passed" and tests["3a-1"]["max_score"] == 4
    assert all(t["visibility"] == "visible" for t in data["tests"])
    assert "Sandbox: user: unprivileged uid per notebook" in data["output"]
    assert "3a-2     0/4  failed" in stdout  # the instructors' view
    assert "grader path(s) are root-only" in stdout
    assert (root / "source").stat().st_mode & 0o077 == 0


@pytest.mark.slow
def test_user_mode_needs_no_bubblewrap(tmp_path, autograder_zip, cache):
    root = autograder_root(
        shared_folder("ag-"), autograder_zip, cache, EXAMPLES / "fall2023-full-marks"
    )
    run = run_autograder(root, cache, path_first=refusing_bwrap(tmp_path / "bin"))
    assert run.data["score"] == 20.0  # graded all the same
    assert run.data["extra_data"]["isolation"].startswith("user: unprivileged uid")


def test_a_bwrap_autograder_where_bubblewrap_cannot_run_refuses_and_says_why(tmp_path, cache):
    archive = tmp_path / "bwrap.zip"
    build_gradescope_zip(archive, replace(CONFIG, isolation="bwrap"))
    root = autograder_root(shared_folder("ag-"), archive, cache, EXAMPLES / "fall2023-full-marks")
    run = run_autograder(root, cache, path_first=refusing_bwrap(tmp_path / "bin"), expect_code=1)
    assert run.data["score"] == 0 and run.data["tests"] == []
    assert "could not isolate the notebooks" in run.data["output"]
    assert "cannot create namespaces" in run.data["output"]
    assert "--isolation user" in run.data["output"]  # the fix


def test_an_empty_submission_still_gets_results(autograder_zip, cache):
    root = autograder_root(shared_folder("ag-"), autograder_zip, cache, None)
    data = run_autograder(root, cache).data
    assert data["score"] == 0 and data["tests"] == []
    assert "no files were submitted" in data["output"]


def test_results_json_that_cannot_be_replaced_is_reported_never_passed_off(tmp_path):
    """An immutable results.json (chattr +i, what a root kernel could leave) can be
    neither replaced nor removed: the grader says so instead of exiting as if it wrote it."""
    results = tmp_path / "results.json"
    results.write_text('{"score": 100}')  # not the grader's
    if subprocess.run(["chattr", "+i", str(results)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        with pytest.raises(ResultsNotWritten, match="did not write is still there"):
            write_results(results, {"score": 1})
    finally:
        subprocess.run(["chattr", "-i", str(results)], check=True)
    write_results(results, {"score": 1})  # and once it can, it does
    assert json.loads(results.read_text()) == {"score": 1}
