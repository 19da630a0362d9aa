"""The zygote itself: a pre-warmed process that forks one fresh grader per submission.

Run as `python -m dlgrade.grading.zygote_server MODULE...` by
`dlgrade.grading.zygote.Zygote` (the launcher's side). A fresh `pytest checks`
interpreter per student spends seconds importing torch, pandas, matplotlib,
scipy, sympy and Jupyter before any student code runs. The zygote imports them
(and loads the datasets) once; for each submission it forks a child that calls
`dlgrade.grading.unit.grade_submission` and exits. Isolation is that of a
fresh interpreter: each child is a new process with its own memory
(copy-on-write), its own session and process group (a timeout kills the
group, kernels included), and runs one submission only; student code still
runs in its own sandboxed kernel. The zygote never grades anything itself.

It is not single-threaded: importing numpy
starts OpenBLAS's worker threads, and the warm-up leaves another library
thread (three threads in all on a 2-core machine). A fork copies only the
forking thread; OpenBLAS shuts its pool down before each fork (its fork
handler) and the child starts a fresh one when it first multiplies. The
zygote forks only from its wait on the pipe, after the warm-up has ended, so
no math of its own is under way. The child's thread budget comes from the
zygote's environment (`runner.launch_environment`).

Protocol, one JSON object per line. The zygote says {"ready": seconds} once
warmed up. The launcher writes requests to the zygote's stdin: {"id",
"student", "submission", "work_dir", "options", "requested_at"}; the zygote
answers on stdout {"id", "pid"} once it has forked and {"id", "exit"} once it
has reaped the child. The child leaves its `UnitResult` in
`work_dir/.unit.json` and its output in `work_dir/grading.log`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import sys
import time
import traceback
from pathlib import Path

from dlgrade.grading.log import LOG_NAME
from dlgrade.grading.options import options_from_dict
from dlgrade.grading.result import RESULT_NAME

# What a grading run imports that costs time; a module missing here is skipped.
PRELOAD = (
    "numpy",
    "scipy.optimize",
    "sympy",
    "torch",
    "pandas",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.pyplot",
    "jinja2",
    "nbformat",
    "nbclient",
    "jupyter_client",
    "zmq",
    "pytest",
    "_pytest.junitxml",
    "dlgrade.grading.plugin",
    "dlgrade.grading.outputs",
    "dlgrade.engine",
    "dlgrade.data",
    "reference.assignments",
    "reference.fashion_mlp",
    "reference.numpy_backprop",
    "reference.relu_fit",
    "reports.render",
    "reference.l1_regression",
    "reference.softmax_jacobian",
    "reference.universal_approx",
    "dlgrade.data.derived",
    "dlgrade.evidence.plugin",
    "matplotlib.backends.backend_agg",
    "pdb",  # pytest's debugging plugin imports it at configuration
)
# The check modules the child's pytest must import itself: pytest rewrites their
# asserts on import. The kernel's code is sent to the kernel as text, never run here.
PYTEST_IMPORTS = ("test_*.py", "conftest.py", "kernel/*.py")
DATASETS = ("mnist", "fashion-mnist")
# Pure functions whose results their modules cache and every student needs: computed
# once here, inherited by every child (module, function, arguments). A function of the
# checks is warmed only where the harness's own checks were preloaded (another checks
# folder has modules of the same names that the child imports from there).
WARM_CALLS = (
    ("dlgrade.engine.sandbox", "bwrap_usable", ()),
    ("dlgrade.engine.sandbox", "gpu_names", ()),
    ("reference.vector_calculus", "grad_norm_squared_np", ([0.0],)),
    ("reference.vector_calculus", "minimiser_np", ([[0.0]],)),
    ("checks.p5_trained", "mnist_rows", ()),  # every MNIST image, by content (P5 Q4)
    ("checks.probes", "p4_probes", ()),  # their kernel code, read once
    ("checks.probes", "p5_probes", ()),  # and P5's inputs: networks trained on MNIST
    ("nbformat.v4", "new_code_cell", ("",)),  # builds nbformat's validator (0.1 s)
    ("nbformat.v4", "new_markdown_cell", ("",)),
    ("PIL.Image", "preinit", ()),  # the image formats a report's figure is saved through
)


def check_helpers(checks_dir: Path) -> list[str]:
    """The harness's own check helpers as modules (`checks.p4_values`, `checks.answers.judge`):
    every module of `checks_dir` but those pytest or the kernel must import."""
    found = []
    for path in sorted(checks_dir.rglob("*.py")):
        relative = path.relative_to(checks_dir)
        if any(relative.match(pattern) for pattern in PYTEST_IMPORTS):
            continue
        parts = [checks_dir.name, *relative.with_suffix("").parts]
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def import_pytest_plugins() -> None:
    """pytest's own plugins, which every run imports as it configures."""
    from _pytest.config import default_plugins

    for name in default_plugins:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")


def serve(preload: list[str]) -> None:
    """The zygote's main loop (runs in `python -m dlgrade.grading.zygote_server`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher decides when we stop
    # The protocol gets a descriptor of its own; whatever a library prints while we
    # import it goes to our stderr (the launcher's log), never into the protocol.
    channel = os.dup(1)
    os.dup2(2, 1)
    started = time.monotonic()
    warm_up(preload)
    _send(channel, {"ready": round(time.monotonic() - started, 3)})
    children: dict[int, object] = {}
    buffer = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.1 if children else 1.0)
        if readable:
            data = os.read(0, 1 << 16)
            if not data:
                # The launcher is gone (it closes us by killing us, so this is a crash: a
                # killed `dlgrade grade`, a lost Dask worker). Nobody will collect what the
                # children grade: stop them rather than leave orphans using the machine.
                _kill_children(children)
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    request = json.loads(line)
                    pid = _fork_child(request, channel)
                    children[pid] = request["id"]
                    _send(channel, {"id": request["id"], "pid": pid})
        _reap(children, channel)


def warm_up(preload: list[str]) -> None:
    for name in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    import_pytest_plugins()
    from dlgrade.data import DataError, load

    for name in DATASETS:
        with contextlib.suppress(DataError):
            load(name)  # kept in the process, shared copy-on-write by every child
    for module, function, args in WARM_CALLS:
        if module.startswith("checks.") and module not in sys.modules:
            continue
        with contextlib.suppress(Exception):  # a warm-up only: the child computes it otherwise
            getattr(importlib.import_module(module), function)(*args)
    # Everything so far lives as long as the zygote: keep the collector off it, so
    # children neither rescan it (pytest collects at exit) nor copy its pages.
    gc.collect()
    gc.freeze()


def _send(channel: int, message: dict) -> None:
    os.write(channel, (json.dumps(message) + "\n").encode("utf-8"))


def _reap(children: dict[int, object], channel: int) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ident = children.pop(pid, None)
        if ident is not None:
            _send(channel, {"id": ident, "exit": os.waitstatus_to_exitcode(status)})


def _kill_children(children: dict[int, object]) -> None:
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)  # the child leads its own group: kernels go too
        except ProcessLookupError:  # not yet its own group leader, or gone already
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _fork_child(request: dict, channel: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        # First: a session of our own (a timeout kills the group), off the protocol pipes,
        # and Ctrl-C handled as in any fresh Python (the zygote ignores it).
        os.setsid()
        os.close(channel)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        work_dir = Path(request["work_dir"])
        work_dir.mkdir(parents=True, exist_ok=True)
        null = os.open(os.devnull, os.O_RDWR)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND  # shared with the unit's own
        log = os.open(work_dir / LOG_NAME, flags, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        code = _grade_in_child(request, work_dir)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _grade_in_child(request: dict, work_dir: Path) -> int:
    from dlgrade.grading.result import write_result
    from dlgrade.grading.unit import grade_submission

    options = options_from_dict(request["options"])
    result = grade_submission(
        Path(request["submission"]),
        options,
        request["student"],
        scratch=work_dir,
        requested_at=request.get("requested_at"),
    )
    write_result(work_dir / RESULT_NAME, result)
    return 0


if __name__ == "__main__":
    serve(sys.argv[1:])
