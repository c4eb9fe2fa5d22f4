#!/usr/bin/env bash
# Install the benchmark peers beside the project: Surprise, implicit and pandas into .venv, and
# LensKit into .venv/lenskit-site (its pandas<3 pin cannot share the project venv; the ranking
# benchmark runs it in a subprocess with that folder on PYTHONPATH).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${MATINEE_VENV:-.venv}
"$VENV/bin/python" -m pip install -q -e . --group bench
"$VENV/bin/python" -m pip install -q --no-deps --target "$VENV/lenskit-site" \
    "lenskit==2025.8.1" "pandas<3" pytz structlog pydantic-settings python-dotenv humanize \
    more-itertools prettytable wcwidth psutil py-cpuinfo deepmerge lazy-loader xopen isal \
    zlib-ng pyzmq requests urllib3 charset-normalizer backports-zstd
