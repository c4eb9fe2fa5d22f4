"""Item 12.2: replacing a saved model in place, format 1 compatibility, debris, locks, races."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee import atomic
from matinee.data.ratings import Ratings
from matinee.errors import BusyError, MatineeError
from matinee.models.registry import model_class
from matinee.store.files import (
    PARAMETERS_NAME,
    check_model_target,
    load_model,
    read_manifest,
    read_movies,
    save_model,
)
from matinee.store.manifest import MANIFEST_NAME, stored_name

MOVIES_TABLE = pl.DataFrame(
    {
        "movie_id": [10, 20, 30, 40],
        "title": ["Ten (1990)", "Twenty (1991)", "Thirty", "Forty (1993)"],
        "year": pl.Series([1990, 1991, None, 1993], dtype=pl.Int32),
        "genres": [["Drama"], ["Comedy", "Drama"], [], ["Horror"]],
    }
)


def _as_format_1(folder: Path) -> None:
    """Rewrite a saved model as format 1 wrote it: plain file names, format_version 1."""
    manifest = read_manifest(folder)
    for name in manifest.files:
        (folder / manifest.stored(name)).rename(folder / name)
    data = json.loads((folder / MANIFEST_NAME).read_text())
    data["format_version"] = 1
    (folder / MANIFEST_NAME).write_text(json.dumps(data))


def test_stored_names_are_content_addressed() -> None:
    digest = "ab" * 32
    assert stored_name("parameters.safetensors", digest) == "parameters-abababababab.safetensors"
    assert stored_name("counts", digest) == "counts-abababababab"
    assert stored_name("movies.parquet", digest, 1) == "movies.parquet"


def test_format_1_models_load_and_are_replaced(tiny: Ratings, tmp_path: Path) -> None:
    folder = save_model(model_class("baseline")().fit(tiny), tmp_path / "m", movies=MOVIES_TABLE)
    _as_format_1(folder)
    assert (folder / PARAMETERS_NAME).is_file()
    assert load_model(folder).name == "baseline"
    movies = read_movies(folder)
    assert movies is not None and movies.height == 4
    save_model(model_class("global-mean")().fit(tiny), folder)
    manifest = read_manifest(folder)
    assert manifest.format_version == 2 and load_model(folder).name == "global-mean"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST_NAME, manifest.stored(PARAMETERS_NAME)]
    )


def test_a_save_sweeps_up_what_killed_saves_left(tiny: Ratings, tmp_path: Path) -> None:
    folder = save_model(model_class("baseline")().fit(tiny), tmp_path / "m")
    (tmp_path / ".m.tmp-0123456789ab").mkdir()
    (tmp_path / ".m.tmp-0123456789ab" / "manifest.json").write_text("{}")
    (tmp_path / ".m.old-0123456789ab").mkdir()
    (tmp_path / ".m.lock").write_text("")
    (folder / ".matinee-tmp-0123456789ab-parameters-x.safetensors").write_bytes(b"half")
    (folder / "parameters-0123456789ab.safetensors").write_bytes(b"orphan")
    (folder / "notes.txt").write_text("the user's own file stays")
    save_model(model_class("global-mean")().fit(tiny), folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    manifest = read_manifest(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST_NAME, manifest.stored(PARAMETERS_NAME), "notes.txt"]
    )


def test_a_folder_set_aside_by_a_killed_writer_is_put_back(tiny: Ratings, tmp_path: Path) -> None:
    """Format 1 renamed the old model aside before moving the new one in; a kill between left
    no model at the path. The next writer restores it before doing anything else."""
    folder = save_model(model_class("baseline")().fit(tiny), tmp_path / "m")
    folder.rename(tmp_path / ".m.old-0123456789ab")
    (tmp_path / ".m.tmp-ba9876543210").mkdir()
    save_model(model_class("global-mean")().fit(tiny), folder)
    assert load_model(folder).name == "global-mean"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_held_lock_makes_the_target_busy(
    tiny: Ratings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "m"
    model = model_class("baseline")().fit(tiny)
    monkeypatch.setattr(atomic, "LOCK_WAIT_SECONDS", 0.05)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with atomic.writer_lock(folder):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    try:
        with pytest.raises(BusyError, match=r"being written by another process.*\.m\.lock"):
            check_model_target(folder)
        with pytest.raises(BusyError) as caught:
            save_model(model, folder)
        assert caught.value.exit_code == 8
        assert not folder.exists()
    finally:
        release.set()
        holder.join()
    save_model(model, folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def _save_many(folder: str, seed: int, rounds: int) -> None:
    rng = np.random.default_rng(seed)
    users = rng.integers(1, 200, 2000)
    ratings = Ratings.from_raw(
        users, rng.integers(1, 100, 2000), rng.integers(1, 6, 2000), rating_scale=(1.0, 5.0)
    )
    names = ["baseline", "global-mean"]
    for turn in range(rounds):
        save_model(model_class(names[(seed + turn) % 2])().fit(ratings), Path(folder))


_SAVER = """
import sys
from pathlib import Path
import numpy as np
from matinee.data.ratings import Ratings
from matinee.models.registry import model_class
from matinee.store.files import save_model
seed = int(sys.argv[2])
rng = np.random.default_rng(seed)
ratings = Ratings.from_raw(rng.integers(1, 200, 2000), rng.integers(1, 100, 2000),
                           rng.integers(1, 6, 2000), rating_scale=(1.0, 5.0))
for turn in range(10):
    name = ["baseline", "global-mean"][(seed + turn) % 2]
    save_model(model_class(name)().fit(ratings), Path(sys.argv[1]))
"""
"""A process saving ten models in turn to the folder argv[1] (argv[2] seeds the data)."""


def _load_many(folder: Path, stop: threading.Event, seen: list[str], errors: list[str]) -> None:
    while not stop.is_set():
        try:
            seen.append(load_model(folder).name)
        except MatineeError as error:
            errors.append(str(error))


@pytest.mark.slow
def test_concurrent_savers_and_loaders_never_see_a_mixed_model(
    tiny: Ratings, tmp_path: Path
) -> None:
    folder = save_model(model_class("baseline")().fit(tiny), tmp_path / "m")
    stop, seen, errors = threading.Event(), [], []
    readers = [
        threading.Thread(target=_load_many, args=(folder, stop, seen, errors)) for _ in range(3)
    ]
    writers = [
        threading.Thread(target=_save_many, args=(str(folder), seed, 15)) for seed in range(2)
    ]
    for worker in [*readers, *writers]:
        worker.start()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen([sys.executable, "-c", _SAVER, str(folder), str(seed)], env=env)
        for seed in (5, 6)
    ]
    codes = [process.wait(timeout=240) for process in processes]
    for writer in writers:
        writer.join(timeout=240)
    stop.set()
    for reader in readers:
        reader.join(timeout=60)
    assert codes == [0, 0]
    assert errors == []
    assert len(seen) > 10 and set(seen) <= {"baseline", "global-mean"}
    assert load_model(folder).name in {"baseline", "global-mean"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert len(list(folder.iterdir())) == 2
