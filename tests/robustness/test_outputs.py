"""Output folders: unwritable targets refused first, and debris swept only when its writer died."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from matinee.atomic import _claim, atomic_directory, check_writable
from matinee.errors import ConfigError, OutputError


def _marked(folder: Path) -> bool:
    return (folder / "MARK").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write in"):
            check_writable(locked / "model")
    finally:
        locked.chmod(0o700)


def test_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_writable(tmp_path / "file" / "deeper" / "model")


def test_a_live_writers_staging_folder_is_kept_and_a_dead_ones_swept(tmp_path: Path) -> None:
    target = tmp_path / "report"
    live = tmp_path / ".report.tmp-live00000000"
    live.mkdir()
    claim = _claim(live)
    dead = tmp_path / ".report.tmp-dead00000000"
    dead.mkdir()
    os.close(_claim(dead))  # its writer died: the kernel dropped the claim with the descriptor
    try:
        with atomic_directory(target, recognise=_marked, what="a report") as staging:
            (staging / "MARK").write_text("1")
        assert live.is_dir() and not dead.exists()
    finally:
        os.close(claim)
    with atomic_directory(target, recognise=_marked, what="a report") as staging:
        (staging / "MARK").write_text("2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
