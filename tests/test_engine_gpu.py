"""With a GPU on the grader machine, student CUDA code runs on it inside the sandbox, and the
run says so. Skipped where there is no GPU (CI, the development machines): there the CPU
mapping of `.cuda()` is tested in test_engine_run.py."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from dlgrade.engine import Probe, SandboxConfig, SourceFile, run_notebook
from dlgrade.engine.sandbox import device_summary, gpu_present

pytestmark = pytest.mark.skipif(
    not gpu_present(), reason="no GPU on this machine (/dev/nvidiactl is absent)"
)

CELL = (
    "import torch\n"
    "x = torch.arange(4.0).cuda() * 2\n"
    "model = torch.nn.Linear(2, 2).to('cuda')\n"
    "y = model(torch.ones(1, 2, device='cuda'))"
)
PROBE = (
    "_dlgrade_emit('available', torch.cuda.is_available())\n"
    "_dlgrade_emit('device', str(x.device))\n"
    "_dlgrade_emit('module', str(next(model.parameters()).device))\n"
    "_dlgrade_emit('x', x)"
)


def test_student_cuda_code_runs_on_the_gpu_in_the_sandbox(tmp_path):
    path = tmp_path / "student" / "gpu.ipynb"
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)]), path)
    run = run_notebook(SourceFile(path, "ipynb", "ok"), [Probe("gpu", PROBE)], SandboxConfig())
    assert run.status == "ok", run.cells
    values = run.probe("gpu").values
    assert values["available"] is True
    assert values["device"] == values["module"] == "cuda:0"
    assert np.array_equal(values["x"], [0.0, 2.0, 4.0, 6.0])
    kinds = {o.kind for o in run.observations}
    assert "cuda-used" in kinds and "cuda-on-cpu" not in kinds
    assert "available to their code" in device_summary(SandboxConfig())
