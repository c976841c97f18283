#!/usr/bin/env bash
# Makes (once) the Python tools the scripts use, in a virtual environment under target/:
# Pillow (to build the load test's upload photo) and Schemathesis (API fuzzing).
# Usage: source scripts/pytools.sh   → sets $PYTOOLS to the environment's bin folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/pytools"
if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/python" -c 'import PIL' 2>/dev/null; then
    echo "setting up $venv (pillow, schemathesis) ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pillow 'schemathesis==4.32.5'
fi
PYTOOLS="$venv/bin"
export PYTOOLS
