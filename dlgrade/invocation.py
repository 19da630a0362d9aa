"""How the user started `dlgrade`, so that commands we print back work when pasted.

A fix line such as "fix: dlgrade data fetch mnist" only helps if `dlgrade`
is what the user can type: someone who ran `.venv/bin/dlgrade data status`
has no `dlgrade` on PATH, and the venv's interpreter path is not what they
typed either.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

PROGRAM = "dlgrade"
MODULES = ("dlgrade", "dlgrade.cli")


def program_name(argv0: str | None = None, orig_argv: Sequence[str] | None = None) -> str:
    """The command that starts dlgrade the way the user just did, ready to paste.

    `python -m dlgrade` gives the interpreter as typed plus `-m dlgrade`; the
    console script gives `dlgrade` when PATH finds that very script, else the
    path as typed (`.venv/bin/dlgrade`); anything else (dlgrade called from
    Python, e.g. by a test) gives plain `dlgrade`.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    orig_argv = list(sys.orig_argv if orig_argv is None else orig_argv)
    for at, word in enumerate(orig_argv[:-1]):
        if word == "-m" and orig_argv[at + 1] in MODULES:
            return shlex.join(orig_argv[: at + 2])
    if Path(argv0).name != PROGRAM:
        return PROGRAM
    on_path = shutil.which(PROGRAM)
    if on_path and _same_file(on_path, argv0):
        return PROGRAM
    return shlex.quote(argv0)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
