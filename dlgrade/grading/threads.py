"""The math-library thread budget a grading process holds itself (and its kernels) to."""

from __future__ import annotations

import os
import sys

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
