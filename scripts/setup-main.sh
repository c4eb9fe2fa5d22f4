#!/usr/bin/env bash
# Set up the main job (scripts/demo.sh): check that ml-latest-small can be read, then create
# .venv (or $MATINEE_VENV) with the core install only. The job runs no neural model, so no torch;
# `pip install 'matinee[neural]'` adds it later (the CPU build first: see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check-data.sh ml-latest-small
VENV=${MATINEE_VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip>=25.1"
"$VENV/bin/python" -m pip install -q -e .
