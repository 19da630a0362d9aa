"""Prove a sympy expression is zero, in a worker process with a hard timeout.

`sympy.simplify` can run for minutes on adversarial input and `signal.alarm`
only works in the main thread, so the work happens in a spawned process that
is killed when time runs out. Only expressions the harness built from checked
syntax trees reach here; student text is never handed to sympy's parser.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any, Literal

import sympy

Proof = Literal["zero", "not proven", "timeout"]


def prove_zero(expression: Any, timeout_s: float = 10.0) -> Proof:
    """'zero' when sympy simplifies every entry of `expression` to 0."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_simplify_worker, args=(expression, sender), daemon=True)
    worker.start()
    sender.close()  # the worker holds the only writing end now
    try:
        if not receiver.poll(timeout_s):
            return "timeout"
        return "zero" if receiver.recv() else "not proven"
    except EOFError as exc:
        raise RuntimeError(f"the simplify worker died (exit code {worker.exitcode})") from exc
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()
        receiver.close()


def _simplify_worker(expression: Any, sender: Connection) -> None:
    entries = list(expression) if isinstance(expression, sympy.MatrixBase) else [expression]
    sender.send(all(sympy.simplify(entry) == 0 for entry in entries))
    sender.close()
