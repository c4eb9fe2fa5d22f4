#!/usr/bin/env bash
# Set up everything from scratch in .venv, then run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MATINEE_VENV:-.venv}
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip>=25.1"
# The CPU build of torch first: any other torch spec may pull a multi-GB CUDA build.
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[all]" --group dev
export MATINEE_DATA_MIRROR=${MATINEE_DATA_MIRROR:-$(cd .. && pwd)/shared/data}
"$VENV/bin/ruff" check src tests benchmarks
"$VENV/bin/mypy"
"$VENV/bin/pytest" -q
