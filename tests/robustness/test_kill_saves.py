"""Item 12.2: a save killed with SIGKILL at any moment leaves a whole model at the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).with_name("kill_loop.py")


@pytest.mark.slow
def test_sixty_kill_9s_during_saves_always_leave_a_whole_model(tmp_path: Path) -> None:
    folder = tmp_path / "parent" / "model"
    folder.parent.mkdir()
    result = subprocess.run(
        [sys.executable, str(HELPER), str(folder), "60", "7"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["kills"] == 60
    assert summary["failures"] == []
    assert sum(summary["found"].values()) == 60
    # Some kills landed mid-save (files written, manifest not yet committed or not yet swept).
    assert summary["interrupted"] > 0
    # The last save swept up whatever the killed ones left.
    assert summary["leftovers"] == []
    assert len(summary["inside"]) == 2 and "manifest.json" in summary["inside"]
