from __future__ import annotations

from pathlib import Path

import pytest

from matinee.atomic import atomic_directory, atomic_file, write_text_atomic
from matinee.errors import ConfigError


def _marked(folder: Path) -> bool:
    return (folder / "MARK").is_file()


def test_atomic_file_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failed_file_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as temp:
        temp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_directory_replaces_an_earlier_folder_of_its_kind(tmp_path: Path) -> None:
    target = tmp_path / "model"
    for version in ("1", "2"):
        with atomic_directory(target, recognise=_marked, what="a model") as staging:
            (staging / "MARK").write_text(version)
    assert (target / "MARK").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_directory_write_keeps_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "MARK").write_text("old")
    with (
        pytest.raises(RuntimeError),
        atomic_directory(target, recognise=_marked, what="x") as staging,
    ):
        (staging / "MARK").write_text("new")
        raise RuntimeError("interrupted")
    assert (target / "MARK").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_foreign_folders_and_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("keep me")
    with (
        pytest.raises(ConfigError, match="not a model; refusing"),
        atomic_directory(tmp_path / "notes", recognise=_marked, what="a model"),
    ):
        pass
    (tmp_path / "file").write_text("x")
    with (
        pytest.raises(ConfigError, match="is not a directory"),
        atomic_directory(tmp_path / "file", recognise=_marked, what="a model"),
    ):
        pass
    assert (tmp_path / "notes" / "keep.txt").read_text() == "keep me"
