#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image
# (Ubuntu 22.04 by default). It installs bubblewrap (for zips built with
# --isolation bwrap; the default, user, runs each notebook as an unprivileged uid),
# Python 3.11 or newer, dlgrade with its pinned dependencies (CPU builds of
# torch: Gradescope has no GPU) and the MNIST/FashionMNIST datasets. Grading
# itself (run_autograder) then needs no network.
#
# Testing outside Gradescope:
#   setup.sh --no-install   skip apt-get and pip; use the Python named by
#                           $DLGRADE_PYTHON, which must already have dlgrade's
#                           dependencies (e.g. a project .venv)
#   DLGRADE_AUTOGRADER_ROOT the folder standing in for /autograder
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${DLGRADE_AUTOGRADER_ROOT:-/autograder}"
VENV="$ROOT/dlgrade-venv"
TORCH_PINS="@TORCH_PINS@"
INSTALL=1

for arg in "$@"; do
  case "$arg" in
    --no-install) INSTALL=0 ;;
    *) echo "setup.sh: unknown option $arg (known: --no-install)" >&2; exit 2 ;;
  esac
done

say() { echo "setup.sh: $*"; }

newest_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null; then
      command -v "$candidate"
      return
    fi
  done
}

install_system_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends bubblewrap ca-certificates
  if [[ -z "$(newest_python)" ]]; then
    say "installing Python 3.11 (dlgrade needs 3.11 or newer)"
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
  fi
  local python version
  python="$(newest_python)"
  version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  # Debian/Ubuntu ship venv support separately from the interpreter.
  "$python" -c 'import ensurepip' 2>/dev/null || apt-get install -y --no-install-recommends "python$version-venv"
}

install_dlgrade() {
  local python
  python="$(newest_python)"
  say "creating $VENV with $python"
  "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet $TORCH_PINS --index-url https://download.pytorch.org/whl/cpu
  # Editable: the checks run from harness/checks, next to the dlgrade package.
  "$VENV/bin/python" -m pip install --quiet -e "$SOURCE/harness"
}

if ((INSTALL)); then
  install_system_packages
  install_dlgrade
  PYTHON="$VENV/bin/python"
else
  PYTHON="${DLGRADE_PYTHON:?setup.sh --no-install needs DLGRADE_PYTHON: a Python that has the dependencies of dlgrade}"
  say "--no-install: using $PYTHON as it is"
fi
# run_autograder reads which Python to use from here.
echo "$PYTHON" >"$SOURCE/python-path"

export PYTHONPATH="$SOURCE/harness${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" -m dlgrade data fetch --no-progress
"$PYTHON" -m dlgrade data status
# The isolation mode autograder.toml names must work in this image, or no submission
# could be graded: fail the build now, where the staff see it, with the reason and fix.
if ! "$PYTHON" -m dlgrade autograder check-isolation --root "$ROOT"; then
  say "the notebooks could not be isolated in this image (see above); rebuild the zip with another --isolation"
  exit 1
fi
say "done"
