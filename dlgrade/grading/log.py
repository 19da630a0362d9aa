"""The grading log: where a grading process's output goes, and the tail error records quote."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

LOG_NAME = "grading.log"
LOG_TAIL_LINES = 25


@contextlib.contextmanager
def redirected_output(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors too: kernels write there) to `log`."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.is_file():
        return ""
    text = path.read_text("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])
