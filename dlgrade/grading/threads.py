"""The math-library thread budget: cores // jobs per student, and a grading process (and its
kernels) held to it."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from dlgrade.grading.options import GradeOptions

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def apply_thread_budget(options: GradeOptions) -> None:
    """Hold this process (and the kernels it starts) to `options.threads` math threads."""
    if options.threads is None:
        return
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(options.threads))
    torch = sys.modules.get("torch")
    if torch is not None:  # already imported (a zygote): its pool size is read at first use
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def available_cores() -> int:
    # Cores this process may use (respects taskset/cgroups), not the machine's total.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def thread_budget(options: GradeOptions, jobs: int) -> GradeOptions:
    """Options with threads = cores // jobs when several students run at once."""
    if options.threads is not None or jobs <= 1:
        return options
    return replace(options, threads=max(1, available_cores() // jobs))
