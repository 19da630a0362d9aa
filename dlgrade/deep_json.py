"""Reading JSON a student controls, which may be nested up to the interpreter's limit.

Python's JSON reader (and nbformat after it) recurses once per nesting level, so
a deeply nested notebook is parsed with almost no stack left. A cyclic garbage
collection that happens to run there runs other objects' finalizers on that
stack: they die of RecursionError, reported as "unraisable" errors that have
nothing to do with the file. The collector is paused while such a file is read;
the reader's own RecursionError still reaches the caller, which names the file
malformed.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def loads(text: str | bytes) -> object:
    """json.loads with the collector paused (see the module's docstring)."""
    with collector_paused():
        return json.loads(text)
