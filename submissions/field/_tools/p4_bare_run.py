"""Run one P4 field folder's notebook bare (outside dlgrade) and measure its trained model.

This is how the accuracies quoted in EXPECTED.toml were obtained. The notebook
runs top to bottom in a real Jupyter kernel (a failing cell is recorded and the
next one runs), with two cells of ours around it: a first one that serves
torchvision's FashionMNIST download from a provisioned copy and keeps CUDA
calls on the CPU (what the grader's sandbox does), and a last one that measures
the graded model on all 10000 test images through the student's own
preprocessing (SPECS: the model variable the training loop optimised, the
input scaling, the input shape).

    dlgrade data provision /tmp/full
    dlgrade data provision /tmp/quick --train-limit 6000 --test-limit 1000
    OMP_NUM_THREADS=1 python submissions/field/_tools/p4_bare_run.py p4-raw-pixel-tensors \\
        --data /tmp/quick --full-test /tmp/full

prints a JSON summary (eval_acc, cell errors, figures per cell, the student's
own accuracy prints). --exec runs cells with exec() instead of a kernel.
"""

from __future__ import annotations

import argparse
import ast
import base64
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

FIELD = Path(__file__).resolve().parents[1]  # _tools/ sits in the corpus it runs
# folder -> (graded model variable, input scaling, input shape); scaling: unit = x/255,
# half = (x/255 - 0.5)/0.5, fm = (x/255 - 0.2860)/0.3530, raw = 0-255 pixels;
# shape: img = N x 1 x 28 x 28, flat = N x 784
SPECS = {
    "p4-combined-with-p3-comment-last": ("fashion_model", "unit", "img"),
    "p4-curves-inside-fit-function": ("mlp", "unit", "img"),
    "p4-hardcoded-cuda": ("model", "unit", "img"),
    "p4-history-dict-percent": ("model", "unit", "img"),
    "p4-imshow-then-bars": ("model", "half", "flat"),
    "p4-iter-next-in-figure-cell": ("model", "unit", "img"),
    "p4-iter-next-shape-check-lambda-norm": ("model", "fm", "img"),
    "p4-logits-as-probabilities": ("model", "fm", "img"),
    "p4-loop-subplots-per-image": ("net", "unit", "img"),
    "p4-printed-probabilities": ("model", "unit", "img"),
    "p4-raw-pixel-tensors": ("mlp", "raw", "flat"),
    "p4-reports-training-accuracy": ("model", "unit", "img"),
    "p4-running-loss-only": ("net", "unit", "img"),
    "p4-seaborn-shared-relu": ("network", "unit", "img"),
    "p4-sigmoid-hidden-layers": ("model", "unit", "img"),
    "p4-sixty-epochs-dataloader": ("model", "unit", "img"),
    "p4-softmax-before-crossentropy": ("model", "unit", "img"),
    "p4-train-loss-and-test-accuracy": ("model", "unit", "flat"),
    "p4-two-hidden-layers": ("model", "unit", "img"),
    "p4-typo-in-training-cell": ("model", "unit", "img"),
    "p4-untrained-shape-check-model": ("net", "unit", "img"),
    "p4-unused-bigger-model": ("clf", "unit", "img"),
}

SETUP = r"""
import os as _os
_os.environ.setdefault("MPLBACKEND", "Agg")
import torch as _torch, torchvision as _tv
from pathlib import Path as _Path
_torch.set_num_threads({threads})
_DATA = {data!r}

def _serve(self):
    if self._check_exists():
        return
    src = _Path(_DATA, type(self).__name__, "raw")
    dst = _Path(self.raw_folder)
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if not (dst / item.name).exists():
            (dst / item.name).symlink_to(item)

_tv.datasets.MNIST.download = _serve

def _is_cuda(d):
    if isinstance(d, str):
        return d.startswith("cuda")
    if isinstance(d, _torch.device):
        return d.type == "cuda"
    return isinstance(d, int) and not isinstance(d, bool)

def _cpu_args(args, kwargs):
    if args and _is_cuda(args[0]):
        args = ("cpu",) + tuple(args[1:])
    if _is_cuda(kwargs.get("device")):
        kwargs = dict(kwargs, device="cpu")
    return args, kwargs

if not _torch.cuda.is_available():
    _t_to, _m_to = _torch.Tensor.to, _torch.nn.Module.to
    def _tensor_to(self, *a, **k):
        a, k = _cpu_args(a, k)
        return _t_to(self, *a, **k)
    def _module_to(self, *a, **k):
        a, k = _cpu_args(a, k)
        return _m_to(self, *a, **k)
    _torch.Tensor.to = _tensor_to
    _torch.nn.Module.to = _module_to
    _torch.Tensor.cuda = lambda self, *a, **k: self
    _torch.nn.Module.cuda = lambda self, *a, **k: self
"""

EVAL = r"""
import torch as _torch, torchvision as _tv
_ts = _tv.datasets.FashionMNIST({full!r}, train=False, download=False)
_x = _ts.data.float()
_prep = {prep!r}
if _prep == "unit":
    _x = _x / 255
elif _prep == "half":
    _x = (_x / 255 - 0.5) / 0.5
elif _prep == "fm":
    _x = (_x / 255 - 0.2860) / 0.3530
_x = _x.reshape(-1, 784) if {shape!r} == "flat" else _x.unsqueeze(1)
_m = {model}
_m.eval()
with _torch.no_grad():
    _acc = (_m(_x).argmax(1) == _ts.targets).float().mean().item()
print("EVAL_ACC", round(100 * _acc, 2), "on", len(_ts.targets), "test images")
"""


def strip_magics(src: str) -> str:
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()
    )


class ExecKernel:
    """Cells exec'd in one namespace, with notebook-like outputs."""

    def __init__(self):
        self.ns = {"__name__": "__main__"}
        self.figures: list[dict] = []

    def _grab_figures(self):
        import matplotlib.pyplot as plt

        for num in plt.get_fignums():
            fig = plt.figure(num)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=60, bbox_inches="tight")
            self.figures.append(
                {
                    "output_type": "display_data",
                    "data": {
                        "image/png": base64.b64encode(buf.getvalue()).decode(),
                        "text/plain": f"<Figure size {int(fig.get_figwidth() * 100)}x{int(fig.get_figheight() * 100)} with {len(fig.axes)} Axes>",
                    },
                    "metadata": {},
                }
            )
        plt.close("all")

    def run(self, src: str) -> list[dict]:
        outputs: list[dict] = []
        out, err = io.StringIO(), io.StringIO()
        result = None
        self.figures = []
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].show = lambda *a, **k: self._flush(out, outputs)
        error = None
        try:
            tree = ast.parse(strip_magics(src))
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                exec(compile(tree, "<cell>", "exec"), self.ns)
                if "matplotlib.pyplot" in sys.modules:
                    sys.modules["matplotlib.pyplot"].show = lambda *a, **k: self._flush(
                        out, outputs
                    )
                if last is not None:
                    result = eval(compile(ast.Expression(last.value), "<cell>", "eval"), self.ns)
        except BaseException as exc:  # noqa: BLE001 - a cell's failure is its output
            error = {
                "output_type": "error",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": traceback.format_exception(exc),
            }
        self._flush(out, outputs)
        if err.getvalue():
            outputs.append({"output_type": "stream", "name": "stderr", "text": err.getvalue()})
        if result is not None:
            outputs.append(
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": repr(result)},
                    "metadata": {},
                    "execution_count": None,
                }
            )
        if error:
            outputs.append(error)
        return outputs

    def _flush(self, out: io.StringIO, outputs: list[dict]):
        text = out.getvalue()
        if text:
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
            out.seek(0)
            out.truncate()
        if "matplotlib.pyplot" in sys.modules:
            self._grab_figures()
            outputs.extend(self.figures)
            self.figures = []


def run_exec(nb: dict) -> dict:
    kernel = ExecKernel()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        cell["outputs"] = kernel.run(src)
    return nb


def run_kernel(nb: dict, cwd: Path, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(nb), as_version=4)
    client = NotebookClient(
        node,
        timeout=timeout,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return json.loads(nbformat.writes(node))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("folder", help="a folder name under submissions/field/")
    p.add_argument("--data", required=True)
    p.add_argument("--full-test", required=True)
    p.add_argument("--out", type=Path, help="write the executed notebook here")
    p.add_argument(
        "--workdir", type=Path, help="where the notebook runs (default: a temporary folder)"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--exec", action="store_true", help="exec() cells instead of a Jupyter kernel")
    p.add_argument("--timeout", type=int, default=3600)
    a = p.parse_args()

    folder = FIELD / a.folder
    notebooks = sorted(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise SystemExit(f"{folder} should hold exactly one notebook, found {len(notebooks)}")
    model, prep, shape = SPECS[a.folder]
    nb = json.loads(notebooks[0].read_text())
    setup = {
        "cell_type": "code",
        "metadata": {},
        "source": SETUP.format(data=a.data, threads=a.threads),
        "outputs": [],
        "execution_count": None,
    }
    evalc = {
        "cell_type": "code",
        "metadata": {},
        "source": EVAL.format(full=a.full_test, prep=prep, shape=shape, model=model),
        "outputs": [],
        "execution_count": None,
    }
    nb["cells"] = [setup, *nb["cells"], evalc]
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="p4-bare-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    os.environ["HOME"] = str(workdir)
    start = time.time()
    done = run_exec(nb) if a.exec else run_kernel(nb, workdir, a.timeout)
    seconds = time.time() - start

    code_cells = [c for c in done["cells"] if c["cell_type"] == "code"]

    def text(c):
        return "".join(
            o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
            for o in c["outputs"]
            if o["output_type"] == "stream"
        )

    errors = [
        {"cell": i, "ename": o["ename"], "evalue": o["evalue"][:300]}
        for i, c in enumerate(code_cells[1:-1], start=1)
        for o in c["outputs"]
        if o["output_type"] == "error"
    ]
    figures = [
        sum(1 for o in c["outputs"] if "image/png" in o.get("data", {})) for c in code_cells[1:-1]
    ]
    evaluated = text(code_cells[-1])
    acc = re.search(r"EVAL_ACC ([\d.]+)", evaluated)
    eval_errors = [o for o in code_cells[-1]["outputs"] if o["output_type"] == "error"]
    printed = [
        line.strip()
        for c in code_cells[1:-1]
        for line in text(c).splitlines()
        if re.search(r"accura|acc\b|EVAL|Accuracy", line, re.I)
    ]
    result = {
        "seconds": round(seconds, 1),
        "eval_acc": float(acc.group(1)) if acc else None,
        "eval_error": eval_errors[0]["evalue"] if eval_errors else None,
        "errors": errors,
        "figures_per_code_cell": figures,
        "printed_accuracy": printed[-6:],
        "setup_error": [
            o["evalue"] for o in code_cells[0]["outputs"] if o["output_type"] == "error"
        ],
    }
    done["cells"] = done["cells"][1:-1]
    if a.out:
        a.out.write_text(json.dumps(done, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
