#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/serve/test_browser.py) when it is missing.
# Idempotent: nothing happens when /usr/bin/chromium is there. apt-get needs root (or sudo -n);
# without either it only warns, and the browser tests then fail under CI=true and skip elsewhere.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    AS_ROOT=(sudo -n)
else
    echo "setup-browser: $CHROMIUM is missing and apt-get needs root; run: apt-get install -y chromium" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${AS_ROOT[@]}" apt-get update -q
"${AS_ROOT[@]}" apt-get install -y -q chromium
"$CHROMIUM" --version
