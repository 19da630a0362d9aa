"""A `distributed.Client` for the backend asked for, and what its cluster offers.

`--scheduler ADDRESS` connects to a cluster someone else runs (and leaves it
running). `--cluster local:N` and `--cluster slurm|pbs|sge` start one for the
batch and stop it afterwards; their scheduler runs in this process with
`allowed-failures` set to 1, so a student whose worker dies is rerun once
(on an existing scheduler `dlgrade.grading.cluster.task` caps it the same).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from dlgrade.grading.cluster.config import Backend, JobqueueConfig

GPU_RESOURCE = "GPU"
CLUSTER_CONFIG = {
    # The scheduler we start reruns a task whose worker died once; the second loss fails it.
    "distributed.scheduler.allowed-failures": 1,
    # A worker holds only the students it is grading (one per thread), none queued behind
    # them: a lost worker then costs no innocent student a try, and a free one takes the next.
    "distributed.scheduler.worker-saturation": 1.0,
}
CONNECT_TIMEOUT_S = 60


@dataclass
class Session:
    """A connected client and what the client side needs to know about its cluster."""

    client: object  # distributed.Client
    description: str
    gpu_declared: bool = False  # the jobs we start will offer GPU (they may not have joined yet)
    dashboard: str | None = None

    def offers_gpu(self) -> bool:
        """Whether tasks may ask for the GPU resource (a worker offers it, or will)."""
        if self.gpu_declared:
            return True
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return any(w.get("resources", {}).get(GPU_RESOURCE, 0) > 0 for w in workers)


@contextlib.contextmanager
def connect(backend: Backend) -> Iterator[Session]:
    """A session on `backend`; a cluster started here is closed on the way out."""
    import dask
    from distributed import Client

    if backend.scheduler:
        with Client(backend.scheduler, timeout=CONNECT_TIMEOUT_S) as client:
            yield _session(client, backend.describe())
        return
    with dask.config.set(CLUSTER_CONFIG), _cluster(backend) as cluster, Client(cluster) as client:
        session = _session(client, backend.describe())
        if backend.jobqueue is not None:
            session.gpu_declared = backend.jobqueue.gpu is not None
        yield session


@contextlib.contextmanager
def _cluster(backend: Backend) -> Iterator[object]:
    if backend.local_jobs:
        from distributed import LocalCluster

        # One worker with a thread per student: like the local runner's --jobs N, the N
        # students share one zygote (one warm-up, one copy of the datasets) and the cores.
        cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=backend.local_jobs,
            processes=True,
            memory_limit=0,  # grading runs in the workers' children, not in the workers
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
    else:
        assert backend.batch_system is not None and backend.jobqueue is not None
        cluster = jobqueue_cluster(backend.batch_system, backend.jobqueue)
    with cluster:
        if backend.jobqueue is not None:
            cluster.scale(jobs=backend.jobqueue.jobs)  # submits the jobs
        yield cluster


def jobqueue_cluster(batch_system: str, config: JobqueueConfig) -> object:
    """dask-jobqueue's cluster for `config`, its scheduler started here, no job submitted yet
    (`cluster.job_script()` shows what each job will run)."""
    import dask_jobqueue

    classes = {
        "slurm": dask_jobqueue.SLURMCluster,
        "pbs": dask_jobqueue.PBSCluster,
        "sge": dask_jobqueue.SGECluster,
    }
    return classes[batch_system](**config.jobqueue_kwargs(batch_system))


def _session(client: object, description: str) -> Session:
    info = client.scheduler_info(n_workers=-1)
    dashboard = client.dashboard_link if "dashboard" in info.get("services", {}) else None
    return Session(client=client, description=description, dashboard=dashboard)
