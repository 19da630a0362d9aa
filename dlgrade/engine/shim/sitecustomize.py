"""Installs the dlgrade in-kernel shims when the grader asked for them."""

import os
import sys

if os.environ.get("DLGRADE_SHIM") == "1":
    try:
        import _dlgrade_shim

        _dlgrade_shim.install()
    except Exception as err:  # the kernel must still start; the grader sees this on stderr
        sys.stderr.write(f"dlgrade shim failed to install: {err!r}\n")
