"""Whether the `user` isolation mode can run here, for the tests that need it.

The mode needs root and a Python every uid can run. A pyenv under root's 0700
home is the usual obstacle; the refusal names the fix (`chmod o+x` on the folders
in the way: traverse, not list), and a TA would apply it, so the tests do too.
"""

from __future__ import annotations

import subprocess

from dlgrade.engine import isolation


def user_mode_problem() -> str | None:
    """None when user mode runs here (after applying the interpreter fix it names)."""
    problem = isolation.user_problem()
    if problem and "chmod o+x " in problem:
        folders = problem.split("chmod o+x ", 1)[1].split(",", 1)[0].split()
        subprocess.run(["chmod", "o+x", *folders], check=True)
        isolation.user_problem.cache_clear()
        problem = isolation.user_problem()
    return problem
