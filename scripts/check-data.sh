#!/usr/bin/env bash
# Check, in seconds and before anything long runs, that a release can be read: from the folder
# MATINEE_DATA_MIRROR names, from the download cache, or from GroupLens. Exit 1 with what to do.
set -euo pipefail
NAME=${1:-ml-latest-small}
exec python3 - "$NAME" <<'PY'
import os, sys, urllib.request
from pathlib import Path

name = sys.argv[1]
mirror = os.environ.get("MATINEE_DATA_MIRROR")
xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
cache = Path(os.environ.get("MATINEE_CACHE_DIR") or Path(xdg) / "matinee")
places = []
if mirror:
    root = Path(mirror).expanduser()
    places += [root / f"{name}.zip", root / name]
places.append(cache / "zips" / f"{name}.zip")
found = next((p for p in places if p.exists()), None)
if found is not None:
    print(f"data: {name} found at {found}")
    sys.exit(0)
url = f"https://files.grouplens.org/datasets/movielens/{name}.zip"
try:
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=15) as response:
        print(f"data: {name} will be downloaded from {url} (HTTP {response.status})")
except OSError as error:
    looked = ", ".join(str(p) for p in places)
    sys.exit(
        f"error: cannot reach {url} ({getattr(error, 'reason', error)}), and {name} is not in "
        f"{looked}.\nWithout network access, download {name}.zip elsewhere and set "
        f"MATINEE_DATA_MIRROR to its folder (holding {name}.zip, or {name}/ with the zip or "
        "its unpacked files)."
    )
PY
