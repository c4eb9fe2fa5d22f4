"""The README's Python tour runs as written (so the front page cannot drift from the code)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_python_tour_runs(mirror: Path, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has no Python example"
    script = tmp_path / "tour.py"
    script.write_text(blocks[0])
    env = {**os.environ, "MATINEE_DATA_MIRROR": str(mirror), "MATINEE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| biased-mf |" in done.stdout
    assert (tmp_path / "runs" / "bmf" / "manifest.json").is_file()
