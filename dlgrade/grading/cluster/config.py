"""What `--scheduler`, `--cluster` and `--cluster-config` ask for.

`--cluster` is `local:N` (N students at once on this machine: one Dask
worker with N threads, sharing one zygote like the local runner) or a batch
system, `slurm`, `pbs` or `sge`, whose workers dask-jobqueue starts as jobs
configured by a small YAML file (`--cluster-config`):

    queue: gpu                # partition (Slurm) or queue (PBS, SGE)
    account: cs4995           # optional: account (Slurm, PBS) or project (SGE)
    jobs: 8                   # worker jobs to keep running
    cores: 8                  # per job; also how many students a job grades at once
    memory: 32GB              # per job
    walltime: "04:00:00"
    gpu: "--gres=gpu:1"       # optional: the GPU request line; these jobs take the P4 students
    environment: /home/ta/dlgrade/.venv   # the virtualenv holding dlgrade on the nodes
    setup:                    # optional: shell lines each job runs first
      - module load cuda/12.4
    data_dir: /scratch/ta/dlgrade-data    # optional: the workers' dataset cache
    interface: ib0            # optional: the network interface the workers reach us on
    directives: []            # optional: further job-script directives, verbatim

Every job runs one Dask worker (with a nanny, which restarts it if it dies)
with `cores` threads; with `gpu` set it offers the resource `GPU: gpus`
(default 1), which tasks whose submission holds P4 ask for. One GPU per job
is the tested shape: the students graded at once in a job share its GPUs.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

BATCH_SYSTEMS = ("slurm", "pbs", "sge")
_LOCAL = re.compile(r"local:(\d+)")


class ClusterConfigError(ValueError):
    """A `--cluster` value or cluster YAML file that cannot be used (the message says why)."""


@dataclass(frozen=True)
class Backend:
    """Where to grade: an existing scheduler, N students at once on a local cluster, or a batch system."""

    scheduler: str | None = None  # tcp://host:8786
    local_jobs: int | None = None  # --cluster local:N: students graded at once
    batch_system: str | None = None  # slurm | pbs | sge
    jobqueue: JobqueueConfig | None = None

    def describe(self) -> str:
        if self.scheduler:
            return f"the Dask scheduler at {self.scheduler}"
        if self.local_jobs:
            return f"a local Dask cluster grading {self.local_jobs} at once"
        assert self.jobqueue is not None
        return f"{self.jobqueue.jobs} {self.batch_system} job(s) of {self.jobqueue.cores} cores"


def parse_backend(
    scheduler: str | None, cluster: str | None, config: Path | None
) -> Backend | None:
    """The backend the flags ask for; None for the local runner (no flag)."""
    if scheduler and cluster:
        raise ClusterConfigError("give either --scheduler or --cluster, not both")
    if config is not None and cluster not in BATCH_SYSTEMS:
        raise ClusterConfigError(
            f"--cluster-config configures --cluster {'|'.join(BATCH_SYSTEMS)} only"
        )
    if scheduler:
        return Backend(scheduler=scheduler)
    if cluster is None:
        return None
    local = _LOCAL.fullmatch(cluster)
    if local:
        workers = int(local.group(1))
        if workers < 1:
            raise ClusterConfigError("--cluster local:N needs N >= 1")
        return Backend(local_jobs=workers)
    if cluster in BATCH_SYSTEMS:
        if config is None:
            raise ClusterConfigError(
                f"--cluster {cluster} needs --cluster-config FILE.yaml "
                "(queue, cores, memory, walltime, ...; see `dlgrade grade --help`)"
            )
        return Backend(batch_system=cluster, jobqueue=load_jobqueue_config(config))
    raise ClusterConfigError(
        f"unknown --cluster {cluster!r}; use local:N or one of {', '.join(BATCH_SYSTEMS)}"
    )


@dataclass(frozen=True)
class JobqueueConfig:
    """The YAML file of `--cluster slurm|pbs|sge` (see the module docstring)."""

    cores: int
    memory: str
    walltime: str
    queue: str | None = None
    account: str | None = None
    jobs: int = 1
    gpu: str | None = None
    gpus: int = 1
    environment: str | None = None
    setup: tuple[str, ...] = ()
    data_dir: str | None = None
    interface: str | None = None
    directives: tuple[str, ...] = field(default=())

    @property
    def python(self) -> str | None:
        return f"{self.environment.rstrip('/')}/bin/python" if self.environment else None

    def prologue(self) -> list[str]:
        """The job's shell lines before the worker starts."""
        lines = list(self.setup)
        if self.environment:
            lines.append(f"source {shlex.quote(self.environment.rstrip('/') + '/bin/activate')}")
        if self.data_dir:
            lines.append(f"export DLGRADE_DATA={shlex.quote(self.data_dir)}")
        return lines

    def jobqueue_kwargs(self, batch_system: str) -> dict[str, Any]:
        """Keyword arguments of dask-jobqueue's SLURMCluster / PBSCluster / SGECluster."""
        kwargs: dict[str, Any] = {
            "job_name": "dlgrade",  # what squeue / qstat show
            "cores": self.cores,
            "processes": 1,  # one worker per job, `cores` threads: one student per thread
            "memory": self.memory,
            "walltime": self.walltime,
            "job_extra_directives": [*([self.gpu] if self.gpu else []), *self.directives],
            "job_script_prologue": self.prologue(),
        }
        if self.queue:
            kwargs["queue"] = self.queue
        if self.account:
            kwargs["project" if batch_system == "sge" else "account"] = self.account
        if self.python:
            kwargs["python"] = self.python
        if self.interface:
            kwargs["interface"] = self.interface
        if self.gpu:
            kwargs["worker_extra_args"] = ["--resources", f"GPU={self.gpus}"]
        return kwargs


def load_jobqueue_config(path: Path) -> JobqueueConfig:
    """Read and check a cluster YAML file; errors name the file and the key."""
    import yaml  # a dependency of dask

    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ClusterConfigError(f"cannot read the cluster configuration {path}: {err}") from err
    if not isinstance(data, dict):
        raise ClusterConfigError(f"{path}: expected a mapping of keys (queue, cores, ...)")
    known = {f.name: f for f in fields(JobqueueConfig)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ClusterConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    missing = [name for name in ("cores", "memory", "walltime") if data.get(name) in (None, "")]
    if missing:
        raise ClusterConfigError(f"{path}: missing {', '.join(missing)}")
    values = {name: _checked(path, name, value) for name, value in data.items()}
    return JobqueueConfig(**values)


def _checked(path: Path, name: str, value: object) -> object:
    if name in ("cores", "jobs", "gpus"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ClusterConfigError(f"{path}: {name} must be a whole number >= 1, got {value!r}")
        return value
    if name in ("setup", "directives"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ClusterConfigError(f"{path}: {name} must be a list of strings")
        return tuple(value)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ClusterConfigError(f"{path}: {name} must be a string, got {value!r}")
    return str(value)
