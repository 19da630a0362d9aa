"""`dlgrade grade --scheduler`: a real Dask cluster on localhost, real grading, real faults.

The module's cluster is distributed's own CLI: one `dask scheduler` and two
`dask worker` processes (one thread each, with their nannies), started as
separate processes with nothing mocked. The workers share this machine's
dataset cache through DLGRADE_DATA, as workers configured with `data_dir` do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from batch_standin import write_standin_checks, write_submission

from dlgrade.cli import main
from dlgrade.grading.threads import available_cores
from dlgrade.intake import folders
from dlgrade.records import GradeRecord, ObservationKind

distributed = pytest.importorskip("distributed", reason="distributed is a dependency of dlgrade")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "submissions" / "examples"
# The theory answers and P3 (a notebook under bubblewrap): real grading at an affordable cost.
PROBLEMS = "p1,p2,p3"
START_TIMEOUT_S = 300


@dataclass
class LocalDask:
    address: str
    client: distributed.Client
    env: dict[str, str]
    processes: list[subprocess.Popen]
    folder: Path

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)

    def start_worker(self, name: str, *options: str, **env: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        command = [*dask_cli(), "worker", self.address, "--nthreads", "1", "--name", name]
        command += ["--local-directory", str(self.folder / name), *options]
        worker = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**self.env, **env},
            start_new_session=True,
        )
        self.processes.append(worker)
        return worker


def dask_cli() -> list[str]:
    """distributed's `dask` command of this environment."""
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dask"]


def stop(process: subprocess.Popen) -> None:
    """End a process we started and everything in its session (a worker's nanny and zygote)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> Iterator[LocalDask]:
    folder = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PYTHONPATH": str(REPO), "DLGRADE_DATA": str(cache)}
    scheduler_file = folder / "scheduler.json"
    log = (folder / "scheduler.log").open("wb")
    command = [*dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", "0"]
    command += ["--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)]
    scheduler = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    cluster = LocalDask("", None, env, [scheduler], folder)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            assert scheduler.poll() is None, (folder / "scheduler.log").read_text()
            time.sleep(0.2)
        cluster.address = json.loads(scheduler_file.read_text())["address"]
        cluster.start_worker("w1")
        # Offers the resource a GPU machine's worker offers (there is no GPU here: the
        # tests check where students go, not CUDA).
        cluster.start_worker("w2", "--resources", "GPU=1")
        cluster.client = distributed.Client(cluster.address, timeout=60)
        cluster.client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield cluster
    finally:
        if cluster.client is not None:
            cluster.client.close()
        for process in reversed(cluster.processes):
            stop(process)


def _records(out: Path) -> dict[str, GradeRecord]:
    return {
        path.parent.name: GradeRecord.from_dict(json.loads(path.read_text()))
        for path in out.glob("*/grade.json")
    }


def _comparable(record: GradeRecord) -> dict:
    """The record without what differs between any two runs (times) or names the worker."""
    data = record.to_dict()
    # The evidence's sha256 covers the run's timings too; the evidence stays where it ran.
    for volatile in ("duration_s", "student_compute_s", "evidence"):
        data.pop(volatile)
    data["observations"] = [o for o in data["observations"] if o["kind"] != ObservationKind.WORKER]
    return data


def _comparable_results(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("execution_time")
    data["output"] = [line for line in data["output"].splitlines() if "] worker:" not in line]
    return data


def _worker_note(record: GradeRecord) -> str:
    notes = [o.message for o in record.observations if o.kind == ObservationKind.WORKER]
    assert len(notes) == 1, record.observations
    return notes[0]


def test_the_cluster_grades_the_examples_exactly_as_the_local_runner(dask_cluster, tmp_path):
    common = ["--quick", "--problems", PROBLEMS, "--no-progress", "--no-similarity"]
    local, remote = tmp_path / "local", tmp_path / "cluster"
    assert main(["grade", str(EXAMPLES), "--out", str(local), "--jobs", "2", *common]) == 0
    argv = ["grade", str(EXAMPLES), "--out", str(remote), "--scheduler", dask_cluster.address]
    assert main([*argv, *common]) == 0

    students = sorted(folders.read(EXAMPLES).folders())
    local_records, remote_records = _records(local), _records(remote)
    assert sorted(remote_records) == sorted(local_records) == students
    workers = set(dask_cluster.worker_pids())
    for student in students:
        here, there = local_records[student], remote_records[student]
        assert there.status == "graded", there.observations
        assert _comparable(there) == _comparable(here), student
        assert sorted(p.name for p in (remote / student).iterdir()) == sorted(
            p.name for p in (local / student).iterdir() if p.name != "evidence"
        )
        assert _comparable_results(remote / student / "results.json") == _comparable_results(
            local / student / "results.json"
        )
        note = _worker_note(there)
        assert any(address in note for address in workers), note
        assert "Dask worker" in (remote / student / "report.html").read_text()
    # The notebooks ran sandboxed on the workers as they do here.
    assert {r.isolation for r in remote_records.values()} == {
        r.isolation for r in local_records.values()
    }
    assert _csv_without_times(remote) == _csv_without_times(local)


def _csv_without_times(out: Path) -> list[list[str]]:
    import csv

    with (out / "grades.csv").open() as handle:
        rows = list(csv.reader(handle))
    keep = [i for i, name in enumerate(rows[0]) if name not in ("duration_s", "student_compute_s")]
    return [[row[i] for i in keep] for row in rows]


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child stays a zombie until reaped; it runs nothing any more.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_a_worker_killed_while_grading_costs_no_student_their_record(dask_cluster, tmp_path):
    checks = write_standin_checks(tmp_path / "standin" / "checks")
    root, out = tmp_path / "class", tmp_path / "out"
    marker = tmp_path / "alice-grading"
    write_submission(root, "alice", score=1.0, sleep=8.0, started_marker=str(marker))
    write_submission(root, "bob", score=0.5, sleep=1.0)
    write_submission(root, "carol", score=1.0, sleep=1.0)
    # Her grading kills whichever worker runs it, every time (a node's OOM killer, say).
    write_submission(root, "mallory", kill_worker=True)
    command = [sys.executable, "-m", "dlgrade", "grade", str(root), "--out", str(out)]
    command += ["--checks", str(checks), "--scheduler", dask_cluster.address]
    command += ["--timeout", "300", "--no-progress", "--no-similarity"]
    with subprocess.Popen(
        command, env=dask_cluster.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as run:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not marker.is_file():
            assert run.poll() is None and time.monotonic() < deadline, run.stdout.read()
            time.sleep(0.1)
        grader = int(marker.read_text())
        worker = _parent(_parent(grader))  # alice's grader <- the worker's zygote <- the worker
        assert worker in dask_cluster.worker_pids().values()
        os.kill(worker, signal.SIGKILL)
        output, _ = run.communicate(timeout=900)
    assert run.returncode == 0, output

    records = _records(out)
    assert sorted(records) == ["alice", "bob", "carol", "mallory"], output
    alice = records["alice"]
    assert alice.status == "graded" and alice.total == 30.0, alice.observations
    assert "was lost while grading this student" in _worker_note(alice)
    assert records["bob"].total == 18.0 and records["carol"].total == 30.0
    # One student per one-thread worker: all the cores, not the nanny's OMP_NUM_THREADS=1.
    assert records["bob"].results[0].details["threads"] == str(available_cores())
    mallory = records["mallory"]
    assert mallory.status == "error"
    assert "lost twice" in mallory.observations[0].message, mallory.observations
    # The lost worker's zygote took alice's first grading process down with it.
    deadline = time.monotonic() + 30
    while _alive(grader) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(grader)


def test_a_result_lost_after_grading_ended_costs_the_student_no_try(dask_cluster, tmp_path):
    # The scheduler reruns a finished task whose result died with its worker before the
    # client fetched it (in a batch: the next student on that worker killed it). Only a
    # start whose grading never ended is a lost one; this student lost one already.
    from dlgrade.grading.cluster.dispatch import zip_submission
    from dlgrade.grading.cluster.task import grade_task, starts_of
    from dlgrade.grading.cluster.worker import DATASETS_PLUGIN, DatasetsPlugin, GradingPlugin
    from dlgrade.grading.options import GradeOptions, options_to_dict
    from dlgrade.grading.result import UnitResult

    checks = write_standin_checks(tmp_path / "standin" / "checks")
    folder = write_submission(tmp_path / "class", "bob", score=0.5)
    name = f"dlgrade-test-{tmp_path.name}"
    options = GradeOptions(checks_dir=checks, timeout_s=300)
    spec = {"options": options_to_dict(options), "default_checks": False}
    client = dask_cluster.client
    client.register_plugin(DatasetsPlugin(), name=DATASETS_PLUGIN)
    client.register_plugin(GradingPlugin(name, spec), name=name)
    try:
        client.set_metadata(["dlgrade", name, "starts", "bob"], ["tcp://192.0.2.1:1"])
        payload = zip_submission(folder, "bob")
        for run in ("first", "rerun"):
            future = client.submit(grade_task, name, "bob", payload, key=f"{name}-{run}")
            record = UnitResult.from_dict(future.result(timeout=START_TIMEOUT_S)).record
            assert record.status == "graded" and record.total == 18.0, (run, record.observations)
            assert starts_of(client, name, "bob") == ["tcp://192.0.2.1:1"], run
    finally:
        client.unregister_worker_plugin(name)


def test_a_worker_without_datasets_is_named_and_its_students_graded_elsewhere(
    dask_cluster, tmp_path
):
    # DLGRADE_DATA under a file: `dlgrade data fetch` cannot even create the cache.
    unfit = dask_cluster.start_worker("unfit", DLGRADE_DATA="/dev/null/dlgrade")
    try:
        dask_cluster.client.wait_for_workers(3, timeout=START_TIMEOUT_S)
        checks = write_standin_checks(tmp_path / "standin" / "checks")
        root, out = tmp_path / "class", tmp_path / "out"
        for name in ("ann", "ben", "cat"):
            write_submission(root, name, score=1.0, sleep=2.0)
        command = [sys.executable, "-m", "dlgrade", "grade", str(root), "--out", str(out)]
        command += ["--checks", str(checks), "--scheduler", dask_cluster.address]
        command += ["--shared-fs", "--no-progress", "--no-similarity"]  # paths, not zips
        run = subprocess.run(
            command, env=dask_cluster.env, capture_output=True, text=True, timeout=900
        )
        assert run.returncode == 0, run.stdout + run.stderr
        unfit_address = next(
            address for address, info in _workers(dask_cluster).items() if info == "unfit"
        )
        assert f"error: worker {unfit_address} (name unfit" in run.stderr
        assert "dlgrade data fetch" in run.stderr and "/dev/null/dlgrade" in run.stderr
        records = _records(out)
        assert {name: r.total for name, r in records.items()} == {
            "ann": 30.0,
            "ben": 30.0,
            "cat": 30.0,
        }
        assert not any(unfit_address in _worker_note(r) for r in records.values())
    finally:
        stop(unfit)


def test_p4_students_go_to_the_gpu_worker_and_a_hang_is_stopped_at_the_timeout(
    dask_cluster, tmp_path
):
    checks = write_standin_checks(tmp_path / "standin" / "checks")
    root, out = tmp_path / "class", tmp_path / "out"
    p4 = (EXAMPLES / "fall2023-full-marks" / "hw1p4.ipynb").read_bytes()
    for name in ("p4-ann", "p4-ben"):
        write_submission(root, name, score=1.0, sleep=1.0)
        (root / name / "hw1p4.ipynb").write_bytes(p4)  # what makes a hand-in hold P4
    write_submission(root, "hung", hang=True)
    command = [sys.executable, "-m", "dlgrade", "grade", str(root), "--out", str(out)]
    command += ["--checks", str(checks), "--scheduler", dask_cluster.address]
    command += ["--timeout", "15", "--no-progress", "--no-similarity"]
    run = subprocess.run(command, env=dask_cluster.env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr

    records = _records(out)
    gpu_worker = next(a for a, name in _workers(dask_cluster).items() if name == "w2")
    for name in ("p4-ann", "p4-ben"):
        assert records[name].total == 30.0
        assert f"worker {gpu_worker} (name w2" in _worker_note(records[name])
    hung = records["hung"]
    assert hung.status == "error"
    assert "exceeded the 15 s limit" in hung.observations[0].message
    assert "grading.log next to this report" in hung.observations[0].message
    assert (out / "hung" / "grading.log").is_file()
    # Rerunning resumes: everyone has a record, nothing goes to the cluster again.
    again = subprocess.run(command, env=dask_cluster.env, capture_output=True, text=True)
    assert again.returncode == 0 and "3 already graded" in again.stdout, again.stdout


def _workers(cluster: LocalDask) -> dict[str, str]:
    info = cluster.client.scheduler_info(n_workers=-1)["workers"]
    return {address: worker["name"] for address, worker in info.items()}
