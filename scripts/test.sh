#!/usr/bin/env bash
# Set everything up from scratch, then run the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup-browser.sh
VENV=${MATINEE_VENV:-.venv}
export MATINEE_DATA_MIRROR=${MATINEE_DATA_MIRROR:-$(cd .. && pwd)/shared/data}
"$VENV/bin/ruff" check src tests benchmarks scripts
"$VENV/bin/ruff" format --check src tests benchmarks scripts
"$VENV/bin/mypy"
"$VENV/bin/pytest" -q
