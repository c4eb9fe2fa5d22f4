"""Issue 12's reproducers, each a regression test: a MatineeError naming the file, line or field.

Every input here once ended in a Python traceback or passed silently.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee.cli import main
from matinee.data.loader import read_local
from matinee.data.ratings import Ratings
from matinee.errors import (
    BusyError,
    ConfigError,
    DataError,
    MalformedFileError,
    MatineeError,
    ModelFormatError,
)
from matinee.models.config_text import with_text_overrides
from matinee.models.registry import model_class
from matinee.recommend.filters import MovieFilter
from matinee.recommend.similar import similar_movies
from matinee.recommend.topk import recommend
from matinee.store.files import MOVIES_NAME, load_model, read_manifest, read_movies, save_model
from matinee.store.manifest import MANIFEST_NAME

ML100K_FILES = ("u.data", "u.item", "u.genre", "u.user", "u.occupation")


def _ml100k(mirror: Path, folder: Path, *, without: str = "") -> Path:
    folder.mkdir()
    for name in ML100K_FILES:
        if name != without:
            shutil.copy(mirror / "ml-100k" / name, folder / name)
    return folder


def _run_cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["matinee", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    code = stopped.value.code
    return int(code) if isinstance(code, int) else 0, capsys.readouterr().err


@pytest.mark.parametrize("missing", ["u.item", "u.genre", "u.user"])
def test_missing_ml100k_side_files(mirror: Path, tmp_path: Path, missing: str) -> None:
    folder = _ml100k(mirror, tmp_path / "ml", without=missing)
    with pytest.raises(DataError, match=rf"{missing} is missing"):
        read_local(folder)


def test_missing_movies_csv_and_movies_dat(tmp_path: Path) -> None:
    csv = tmp_path / "csv"
    csv.mkdir()
    (csv / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n")
    with pytest.raises(DataError, match=r"movies\.csv is missing"):
        read_local(csv)
    dat = tmp_path / "dat"
    dat.mkdir()
    (dat / "ratings.dat").write_text("1::10::5::978300760\n")
    (dat / "users.dat").write_text("1::F::1::10::48067\n")
    with pytest.raises(DataError, match=r"movies\.dat is missing"):
        read_local(dat)


def test_a_zip_with_a_corrupt_member(mirror: Path, tmp_path: Path) -> None:
    data = bytearray((mirror / "ml-latest-small.zip").read_bytes())
    at = data.find(b"ratings.csv")
    data[at + 200 : at + 400] = bytes(200)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"damaged\.zip/.*ratings\.csv is a damaged zip member"):
        read_local(damaged)


def test_read_local_takes_a_str_and_refuses_unknown_layouts(mirror: Path) -> None:
    assert len(read_local(str(mirror / "ml-100k")).ratings) == 100_000
    with pytest.raises(ConfigError, match="unknown layout 'ml-99'; known layouts: csv"):
        read_local(mirror / "ml-100k", layout="ml-99")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="takes a path"):
        read_local(42)  # type: ignore[arg-type]


def test_truncated_last_u_item_line_is_reported(mirror: Path, tmp_path: Path) -> None:
    folder = _ml100k(mirror, tmp_path / "ml")
    text = (folder / "u.item").read_bytes()
    (folder / "u.item").write_bytes(text[:-30])
    with pytest.raises(MalformedFileError, match=r"u\.item, line 1682: the last row has"):
        read_local(folder)


def test_duplicate_movie_ids_in_movies_csv(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n")
    (tmp_path / "movies.csv").write_text(
        "movieId,title,genres\n1,A (1990),Drama\n2,C,Drama\n1,B (1991),Comedy\n"
    )
    with pytest.raises(MalformedFileError, match=r"movies\.csv, line 4: movie_id 1 appears"):
        read_local(tmp_path)


def test_true_is_not_a_rating(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t10\t4\t1\n2\t10\ttrue\t2\n")
    with pytest.raises(MalformedFileError, match=r"u\.data, line 2"):
        read_local(tmp_path)


@pytest.fixture
def saved(tiny: Ratings, tmp_path: Path) -> Path:
    movies = pl.DataFrame(
        {
            "movie_id": [10, 20, 30, 40],
            "title": ["A", "B", "C", "D"],
            "year": pl.Series([1990, None, 1992, 1993], dtype=pl.Int32),
            "genres": [["Drama"], ["Comedy"], [], ["Drama"]],
        }
    )
    return save_model(model_class("baseline")().fit(tiny), tmp_path / "m", movies=movies)


def _rewrite_stored(folder: Path, name: str, data: bytes) -> None:
    """Replace a saved file *and* its checksum: damage the checksum cannot catch."""
    import hashlib

    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    (folder / read_manifest(folder).stored(name)).unlink()
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    (folder / read_manifest(folder).stored(name)).write_bytes(data)


def test_a_damaged_movies_parquet_is_an_error_not_a_panic(saved: Path) -> None:
    good = (saved / read_manifest(saved).stored(MOVIES_NAME)).read_bytes()
    _rewrite_stored(saved, MOVIES_NAME, good[:8] + bytes(64) + good[72:])
    with pytest.raises(ModelFormatError, match=r"movies-\w+\.parquet"):
        read_movies(saved)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a["global_mean"].__setitem__(0, np.nan), "'global_mean' holds 1 NaN"),
        (lambda a: a["rating_scale"].__setitem__(slice(None), [5.0, 1.0]), "low < high"),
        (lambda a: a["user_ids"].__setitem__(slice(None), a["user_ids"][::-1].copy()), "sorted"),
        (lambda a: a["movie_ids"].__setitem__(1, a["movie_ids"][0]), "'movie_ids' must be unique"),
    ],
)
def test_saved_models_with_bad_values_are_refused(saved: Path, edit: object, message: str) -> None:
    from safetensors.numpy import load, save

    from matinee.store.files import PARAMETERS_NAME

    path = saved / read_manifest(saved).stored(PARAMETERS_NAME)
    arrays = {name: array.copy() for name, array in load(path.read_bytes()).items()}
    assert callable(edit)
    edit(arrays)
    _rewrite_stored(saved, PARAMETERS_NAME, save(arrays))
    with pytest.raises(ModelFormatError, match=message):
        load_model(saved)


def test_init_std_nan_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = model_class("biased-mf").config_type()
    with pytest.raises(ConfigError, match="init_std must be a finite number, got nan"):
        with_text_overrides(config, {"init_std": "nan"})
    code, err = _run_cli(
        ["train", "biased-mf", "--out", str(tmp_path / "m"), "--set", "init_std=inf"],
        monkeypatch,
        capsys,
    )
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "init_std must be a finite number" in err


def test_wrong_argument_types(tiny: Ratings, saved: Path) -> None:
    model = load_model(saved)
    cases = [
        (lambda: model_class("baseline")().fit("ratings.csv"), "fit takes Ratings"),  # type: ignore[arg-type]
        (lambda: model_class("baseline")().fit(tiny, "x"), "validation must be Ratings"),  # type: ignore[arg-type]
        (lambda: save_model(model, 5), "'directory' must be a path"),  # type: ignore[arg-type]
        (lambda: save_model("model", saved), "'model' must be a Recommender"),  # type: ignore[arg-type]
        (lambda: save_model(model, saved, metrics={"rmse": "low"}), "metric 'rmse'"),  # type: ignore[dict-item]
        (lambda: load_model(None), "load_model takes a folder path"),  # type: ignore[arg-type]
        (lambda: recommend(model, "1"), "users must be integer ids"),
        (lambda: recommend(model, [1.5]), "users must be integer ids"),
        (lambda: recommend(model, [True]), "users must be integer ids"),
        (lambda: similar_movies(model, "10"), "movie_id must be an integer"),  # type: ignore[arg-type]
    ]
    for call, message in cases:
        with pytest.raises(MatineeError, match=message):
            call()


def test_unknown_genre_lists_the_known_ones(saved: Path) -> None:
    model = load_model(saved)
    movies = read_movies(saved)
    with pytest.raises(ConfigError, match=r"unknown genre.*'Nosuch'; known genres: Comedy, Drama"):
        recommend(model, [1], movies=movies, movie_filter=MovieFilter(genres=("Nosuch",)))


def test_cli_errors_are_one_line_whatever_the_width(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], saved: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    code, err = _run_cli(["recommend", str(saved), "--user", "abc"], monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: Invalid value for '--user': 'abc' is not a valid int")
    (tmp_path / "file").write_text("x")
    long_path = tmp_path / "file" / ("a-very-long-folder-name-" * 4)
    code, err = _run_cli(["train", "baseline", "--out", str(long_path)], monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1 and "is a file, not a folder" in err


def test_out_checks_come_before_training(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from matinee import atomic
    from matinee.data import loader

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was loaded before --out was checked")

    monkeypatch.setattr(loader, "load_dataset", no_loading)
    (tmp_path / "file").write_text("x")
    code, err = _run_cli(
        ["train", "baseline", "--out", str(tmp_path / "file" / "m")], monkeypatch, capsys
    )
    assert code == 2 and "is a file" in err
    with atomic.writer_lock(tmp_path / "busy"), pytest.raises(BusyError):
        from matinee.store.files import check_model_target

        check_model_target(tmp_path / "busy")


def test_bad_cache_entries_are_rebuilt_with_a_warning(
    tmp_path: Path, mirror: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from matinee.data.cache import _crc, cache_entry, read_cache, write_cache

    dataset = dataclasses.replace(read_local(mirror / "ml-100k"), source_checksum="abc")
    folder = cache_entry(tmp_path, dataset.name, "abc")
    write_cache(tmp_path, dataset)
    assert read_cache(tmp_path, dataset.name, "abc") is not None
    (folder / "meta.json").write_text("[]")
    assert read_cache(tmp_path, dataset.name, "abc") is None
    assert "unusable" in caplog.text and not folder.exists()
    # Ratings of 99 on a 1-5 scale, with checksums that match: refused by the range check.
    write_cache(tmp_path, dataset)
    rating = np.load(folder / "rating.npy")
    rating[0] = 99
    np.save(folder / "rating.npy", rating)
    meta = json.loads((folder / "meta.json").read_text())
    meta["files"]["rating.npy"]["crc32"] = _crc(rating.data)
    (folder / "meta.json").write_text(json.dumps(meta))
    assert read_cache(tmp_path, dataset.name, "abc") is None
    assert "outside the scale" in caplog.text
