#!/usr/bin/env bash
# Set up dlgrade on this machine: system packages, the .venv, and the datasets.
# Safe to re-run: every step checks first and a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")"

# Runtime needs: the sandbox, FashionMNIST, and the browser the report tests drive.
APT_PACKAGES=(bubblewrap dataset-fashion-mnist chromium chromium-driver)
VENV=.venv
STAMP=.setup-stamp

say() { echo "setup: $*" >&2; }

missing_apt_packages() {
  local package
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || echo "$package"
  done
}

install_system_packages() {
  if ! command -v dpkg-query >/dev/null; then
    say "no dpkg-query (not Debian/Ubuntu): install the equivalents of ${APT_PACKAGES[*]} yourself"
    return
  fi
  local missing
  mapfile -t missing < <(missing_apt_packages)
  if ((${#missing[@]} == 0)); then
    return
  fi
  if [[ $EUID -ne 0 ]]; then
    say "missing system packages: ${missing[*]}"
    say "install them with: sudo apt-get install -y ${missing[*]}"
    say "continuing without them (the sandbox, FashionMNIST from Debian and the browser checks need them)"
    return
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y "${missing[@]}"
}

create_venv() {
  if [[ -x $VENV/bin/python ]]; then
    return
  fi
  local python
  python=$(command -v python3.11 || command -v python3 || true)
  if [[ -z $python ]]; then
    say "no python3.11 or python3 on PATH; install Python 3.11"
    exit 1
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "$python is $("$python" --version 2>&1); dlgrade needs Python 3.11 or newer"
    exit 1
  fi
  if ! "$python" -c 'import ensurepip' 2>/dev/null; then
    # Debian splits venv support out of the interpreter package.
    if [[ $EUID -eq 0 ]]; then
      say "installing python3-venv"
      DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
    else
      say "$python cannot create virtual environments: sudo apt-get install -y python3-venv"
      exit 1
    fi
  fi
  say "creating $VENV with $python"
  rm -f "$STAMP"
  "$python" -m venv "$VENV"
}

install_project() {
  # The stamp records what was installed; an unchanged pyproject.toml skips pip.
  local wanted
  wanted="$(sha256sum pyproject.toml | cut -d' ' -f1) $($VENV/bin/python --version 2>&1)"
  if [[ -f $STAMP && "$(cat "$STAMP")" == "$wanted" && -x $VENV/bin/dlgrade ]]; then
    return
  fi
  say "installing dlgrade and its dependencies into $VENV"
  "$VENV/bin/python" -m pip install -e '.[dev]'
  echo "$wanted" >"$STAMP"
}

install_system_packages
create_venv
install_project
# fetch verifies each cached dataset against its known facts (`dlgrade data
# status` prints them) and refetches only what is missing or fails.
"$VENV/bin/dlgrade" data fetch
say "done: $VENV is ready and the datasets are verified"
