"""Grading a class on a Dask cluster (`dlgrade grade --scheduler | --cluster`).

The unit of work is the local runner's: `dlgrade.grading.unit.grade_submission`,
run once per student in a child forked from a pre-warmed zygote, now on a Dask
worker instead of this machine.

* `config`: `--cluster local:N | slurm | pbs | sge` and the YAML that configures
  dask-jobqueue (queue, cores, memory, walltime, GPU line, environment);
* `backends`: a `distributed.Client` for `--scheduler ADDRESS` or the cluster
  we start, and what it offers (GPUs, the dashboard);
* `worker`: the worker's preparation: a plugin that fetches the datasets and
  one that keeps a zygote per worker;
* `task`: the task that grades one student there (and caps its retries);
* `dispatch`: the client side: ship each submission (a zip, or a path with
  `--shared-fs`), retry a student whose worker died once, enforce the time
  limit, draw the progress bar and write OUT.

`distributed` and `dask_jobqueue` are imported only when a cluster is asked for.
"""
