"""A tiny stand-in for `checks/` that speaks the grading contract, for the batch tests.

It is a real pytest suite run as a real subprocess: it takes `--submission`
and `--results-json` (plus the other grading options) and writes a
`GradeRecord` JSON, exactly like the harness's plugin. What it "finds" is
scripted by `plan.json` in each submission folder (none: full marks): a score, a sleep (standing
in for student compute), a crash or a hang, a part's verdict; for the cluster
tests, a marker file written when grading starts, or the Dask worker killed from
within; for the local batch, its zygote killed from within, or OUT's disk filled. Not collected by pytest (no `test_` prefix); test modules import it.
"""

from __future__ import annotations

import json
from pathlib import Path

CONFTEST = r"""
import base64, io, json, os, time
from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--submission")
    parser.addoption("--results-json")
    parser.addoption("--assignment", default=None)
    parser.addoption("--problems", default=None)
    parser.addoption("--quick", action="store_true")
    parser.addoption("--visible-only", action="store_true")
    parser.addoption("--isolation", default="bwrap")


def plan(config):
    path = Path(config.getoption("--submission")) / "plan.json"
    return json.loads(path.read_text()) if path.is_file() else {}  # no plan: full marks


def pytest_configure(config):
    if config.getoption("--submission") is None:
        return
    config._standin_start = time.time()
    p = plan(config)
    if p.get("exit") is not None:
        print("stand-in: crashing on purpose", flush=True)
        os._exit(p["exit"])
    if p.get("started_marker"):  # lets a test act while this grading runs
        Path(p["started_marker"]).write_text(str(os.getpid()))
    if p.get("kill_worker"):
        # Stands in for the OOM killer taking the Dask worker that grades this
        # submission: we run in a child of the worker's zygote.
        stat = Path(f"/proc/{os.getppid()}/stat").read_text()
        os.kill(int(stat.rsplit(")", 1)[1].split()[1]), 9)
        time.sleep(120)
    if p.get("kill_zygote"):
        # Stands in for the OOM killer taking the local batch's zygote and this child with
        # it, the first `times` tries only (counted in the marker file).
        marker = Path(p["kill_zygote"]["marker"])
        tries = len(marker.read_text().splitlines()) if marker.exists() else 0
        if tries < p["kill_zygote"].get("times", 1):
            marker.write_text("killed\n" * (tries + 1))
            os.kill(os.getppid(), 9)
            os.kill(os.getpid(), 9)
    if p.get("fill_disk"):
        # Stands in for whatever fills OUT's disk mid-batch (other students' files, another
        # job): a file grown until the disk refuses more, the first try only (the marker).
        marker = Path(p["fill_disk"]["marker"])
        try:
            marker.touch(exist_ok=False)
            with Path(p["fill_disk"]["filler"]).open("wb") as handle:
                while True:
                    handle.write(bytes(1 << 16))
                    handle.flush()
        except OSError:
            pass
    if p.get("hang"):
        # Stands in for a notebook kernel that never returns; the child
        # process proves that the whole process group is killed.
        import subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        time.sleep(300)
    time.sleep(p.get("sleep", 0))


def png():
    from matplotlib.figure import Figure
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().imshow([[0, 1], [1, 0]], cmap="gray")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def results(config):
    p = plan(config)
    score = float(p.get("score", 1.0))
    status = "passed" if score == 1 else ("partial" if score > 0 else "failed")
    out = [
        dict(part="4-arch", name="MLP architecture 784-256-128-64-10", points=6.0, max_points=6.0,
             status="passed", message="all four Linear layers have the expected shapes"),
        dict(part="4-curves", name="train/test loss curves", points=4.0 * score, max_points=4.0,
             status=status, message="test loss should fall over the epochs\nlast epoch 0.61 vs 0.35",
             details={"plot": {"title": "test loss per epoch", "xlabel": "epoch", "ylabel": "loss",
                               "series": {"student": [0.9, 0.7, 0.61], "reference": [0.6, 0.45, 0.35]}},
                      "expected": "<= 0.45", "found": "0.61", "epochs": 3}),
        dict(part="5-q2", name="feed_forward_sample", points=10.0 * score, max_points=10.0,
             status=status, message="" if score == 1 else "loss differs from the reference",
             details={"expected": "2.302585", "found": "2.302585" if score == 1 else "1.9"}),
        dict(part="2c", name="reflection", points=0.0, max_points=4.0, status="manual",
             message="graded by a TA", details={"text": p.get("text", "I learnt that <b>l1</b> is robust."),
                                                 "images": [png()]}),
    ]
    if not config.getoption("--visible-only"):
        out.append(dict(part="5-q4", name="accuracy after 3 epochs", points=10.0 * score,
                        max_points=10.0, status=status, message="hidden check", visibility="hidden"))
    for result in out:  # scripted verdicts: {"5-q2": ["error", "harness error (...)"]}
        if result["part"] in p.get("verdicts", {}):
            result["status"], result["message"] = p["verdicts"][result["part"]]
            result["points"] = 0.0
    return out


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    target = config.getoption("--results-json")
    if target is None:
        return
    p = plan(config)
    record = {
        "student": "name-from-plugin",
        "assignment": config.getoption("--assignment") or "fall2023",
        "results": results(config),
        "status": "graded",
        "duration_s": 0.0,
        "student_compute_s": float(p.get("sleep", 0)),
        "observations": p.get("observations", []),
        "isolation": "reduced: stand-in",
        "quick": bool(config.getoption("--quick")),
        "failed_cells": p.get("failed_cells", []),
    }
    record["results"][0]["details"] = {"started": config._standin_start, "ended": time.time(),
                                       "problems": config.getoption("--problems"),
                                       "threads": os.environ.get("OMP_NUM_THREADS")}
    Path(target).write_text(json.dumps(record))
"""

TEST_MODULE = r"""
import json
from pathlib import Path


def test_plan(pytestconfig):
    path = Path(pytestconfig.getoption("--submission")) / "plan.json"
    plan = json.loads(path.read_text()) if path.is_file() else {}
    assert plan.get("score", 1.0) == 1.0, "stand-in check lost points"
"""


def write_standin_checks(folder: Path) -> Path:
    """Create the stand-in checks folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_standin.py").write_text(TEST_MODULE)
    return folder


def write_submission(root: Path, name: str, **plan: object) -> Path:
    """A submission folder whose `plan.json` scripts what the stand-in checks report."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.json").write_text(json.dumps(plan))
    # `dlgrade check` refuses a folder with no notebook and no answers file.
    (folder / "answers.toml").write_text("# the stand-in checks read plan.json\n")
    return folder
