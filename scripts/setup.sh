#!/usr/bin/env bash
# The test set-up: create .venv (or $MATINEE_VENV) and install Matinee with every extra and the
# dev tools (scripts/test.sh and CI run it; the main job needs only scripts/setup-main.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MATINEE_VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip>=25.1"
# The CPU build of torch first: any other torch spec may pull a multi-GB CUDA build.
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
# pyspark (about 490 MB, needs Java 17) is kept out of [all]; the tests marked spark need it.
"$VENV/bin/python" -m pip install -q -e ".[all,spark]" --group dev
