"""`--cluster` and its YAML: the job script dask-jobqueue generates, and clear refusals.

No batch system is needed: dask-jobqueue writes the job script without
submitting it (its scheduler does start, in this process, and is closed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlgrade.cli import main
from dlgrade.grading.cluster.config import (
    Backend,
    ClusterConfigError,
    load_jobqueue_config,
    parse_backend,
)

pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is a dependency of dlgrade")

REPO = Path(__file__).resolve().parents[1]
SLURM_EXAMPLE = REPO / "docs" / "examples" / "slurm-cluster.yaml"  # shown in the README

SLURM_SCRIPT = """\
#!/usr/bin/env bash

#SBATCH -J dlgrade
#SBATCH -p gpu
#SBATCH -A cs4995
#SBATCH -n 1
#SBATCH --cpus-per-task=8
#SBATCH --mem=30G
#SBATCH -t 04:00:00
#SBATCH --gres=gpu:1
module load cuda/12.4
source /home/ta/dlgrade/.venv/bin/activate
export DLGRADE_DATA=/scratch/ta/dlgrade-data
/home/ta/dlgrade/.venv/bin/python -m distributed.cli.dask_worker {scheduler} --name dummy-name \
--nthreads 8 --memory-limit 29.80GiB --nanny --death-timeout 60 --resources GPU=1
"""


def test_the_readme_slurm_example_makes_this_job_script():
    from dlgrade.grading.cluster.backends import jobqueue_cluster

    config = load_jobqueue_config(SLURM_EXAMPLE)
    with jobqueue_cluster("slurm", config) as cluster:
        script = cluster.job_script()
        expected = SLURM_SCRIPT.format(scheduler=cluster.scheduler_address)
    assert script == expected


def test_pbs_and_sge_take_the_same_file(tmp_path):
    from dlgrade.grading.cluster.backends import jobqueue_cluster

    config = load_jobqueue_config(SLURM_EXAMPLE)
    with jobqueue_cluster("pbs", config) as cluster:
        pbs = cluster.job_script()
    with jobqueue_cluster("sge", config) as cluster:
        sge = cluster.job_script()
    assert "#PBS -q gpu" in pbs and "#PBS -A cs4995" in pbs and "#PBS --gres=gpu:1" in pbs
    assert "#$ -q gpu" in sge and "#$ -P cs4995" in sge
    for script in (pbs, sge):
        assert "source /home/ta/dlgrade/.venv/bin/activate" in script
        assert "--resources GPU=1" in script and "--nthreads 8" in script


def test_backends_from_the_flags(tmp_path):
    assert parse_backend(None, None, None) is None
    assert parse_backend("tcp://head:8786", None, None) == Backend(scheduler="tcp://head:8786")
    assert parse_backend(None, "local:3", None) == Backend(local_jobs=3)
    slurm = parse_backend(None, "slurm", SLURM_EXAMPLE)
    assert slurm.batch_system == "slurm" and slurm.jobqueue.jobs == 8
    for flags, message in [
        ((None, "local:0", None), "N >= 1"),
        ((None, "kubernetes", None), "unknown --cluster 'kubernetes'"),
        ((None, "slurm", None), "needs --cluster-config"),
        ((None, "local:2", SLURM_EXAMPLE), "configures --cluster slurm|pbs|sge only"),
    ]:
        with pytest.raises(ClusterConfigError, match=message):
            parse_backend(*flags)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cores: 8\nmemory: 8GB\n", "missing walltime"),
        ("cores: 0\nmemory: 8GB\nwalltime: '1:00:00'\n", "cores must be a whole number >= 1"),
        ("cores: 4\nmemory: 8GB\nwalltime: '1:00:00'\nqueues: gpu\n", "unknown key.*queues"),
        ("cores: 4\nmemory: 8GB\nwalltime: '1:00:00'\nsetup: {a: 1}\n", "setup must be a list"),
        ("- cores\n", "expected a mapping"),
        ("cores: [\n", "cannot read"),
    ],
)
def test_a_bad_cluster_file_is_refused_naming_the_key(tmp_path, text, message):
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    with pytest.raises(ClusterConfigError, match=message):
        load_jobqueue_config(path)


def test_the_command_line_reports_a_bad_cluster_flag(tmp_path, capsys):
    (tmp_path / "class" / "alice").mkdir(parents=True)
    argv = ["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out")]
    assert main([*argv, "--cluster", "slurm"]) == 2
    assert "needs --cluster-config" in capsys.readouterr().err
    assert main([*argv, "--shared-fs"]) == 2
    assert "--shared-fs applies to --scheduler and --cluster only" in capsys.readouterr().err
