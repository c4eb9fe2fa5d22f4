"""Saved models: round trips, atomic replacement, and clear errors for every kind of bad file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFormatError, NotFittedError, OutputError
from matinee.models.registry import model_class
from matinee.store import commit as store_commit
from matinee.store.files import (
    MOVIES_NAME,
    PARAMETERS_NAME,
    load_model,
    read_manifest,
    read_movies,
    save_model,
)
from matinee.store.manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest

MOVIES = pl.DataFrame(
    {
        "movie_id": [10, 20, 30, 40, 99],
        "title": ["Ten (1990)", "Twenty (1991)", "Thirty", "Forty (1993)", "Not rated"],
        "year": pl.Series([1990, 1991, None, 1993, 2000], dtype=pl.Int32),
        "genres": [["Drama"], ["Comedy", "Drama"], [], ["Horror"], ["Drama"]],
        "imdb_id": [1, 2, 3, 4, 5],
    }
)


@pytest.fixture
def saved(tiny: Ratings, tmp_path: Path) -> Path:
    model = model_class("baseline")().fit(tiny)
    return save_model(
        model, tmp_path / "model", metrics={"rmse": 0.5}, extra={"dataset": "tiny"}, movies=MOVIES
    )


def _manifest(directory: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((directory / MANIFEST_NAME).read_text())
    return data


def _write_manifest(directory: Path, data: dict[str, object]) -> None:
    (directory / MANIFEST_NAME).write_text(json.dumps(data))


def _stored(directory: Path, name: str) -> Path:
    """The file on disk holding the listed file ``name``."""
    return directory / read_manifest(directory).stored(name)


def test_round_trip_gives_identical_model(tiny: Ratings, saved: Path) -> None:
    original = model_class("baseline")().fit(tiny)
    loaded = load_model(saved)
    assert type(loaded) is type(original) and loaded.config == original.config
    users = np.arange(tiny.n_users)
    np.testing.assert_array_equal(loaded.score_users(users), original.score_users(users))
    for name, array in original.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], array)
    assert [r["loss"] for r in loaded.history_] == [r["loss"] for r in original.history_]
    assert loaded.data_fingerprint_ == tiny.fingerprint()


def test_manifest_records_everything(saved: Path) -> None:
    manifest = read_manifest(saved)
    assert manifest.format_version == FORMAT_VERSION == 2
    assert manifest.model == "baseline"
    assert manifest.metrics == {"rmse": 0.5} and manifest.extra == {"dataset": "tiny"}
    assert set(manifest.files) == {PARAMETERS_NAME, MOVIES_NAME}
    assert {"user_ids", "movie_ids", "rating_scale", "global_mean"} <= set(manifest.arrays)
    assert manifest.arrays["movie_ids"].shape == (4,)
    assert {"python", "numpy", "safetensors"} <= set(manifest.versions)
    assert manifest.created and manifest.data_fingerprint
    stored = [manifest.stored(PARAMETERS_NAME), manifest.stored(MOVIES_NAME)]
    assert stored[0].startswith("parameters-") and stored[0].endswith(".safetensors")
    assert stored[1].startswith("movies-") and stored[1].endswith(".parquet")
    assert sorted(p.name for p in saved.iterdir()) == sorted([MANIFEST_NAME, *stored])


def test_movies_table_keeps_known_movies_only(saved: Path, tiny: Ratings, tmp_path: Path) -> None:
    movies = read_movies(saved)
    assert movies is not None
    assert movies.columns == ["movie_id", "title", "year", "genres"]
    assert movies["movie_id"].to_list() == [10, 20, 30, 40]
    bare = save_model(model_class("baseline")().fit(tiny), tmp_path / "bare")
    assert read_movies(bare) is None
    with pytest.raises(ConfigError, match="lacks column"):
        save_model(model_class("baseline")().fit(tiny), tmp_path / "x", movies=MOVIES.drop("title"))


def test_saving_replaces_an_old_model_and_leaves_no_temporaries(tiny: Ratings, saved: Path) -> None:
    model = model_class("global-mean")().fit(tiny)
    save_model(model, saved)
    manifest = read_manifest(saved)
    assert manifest.model == "global-mean"
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        [MANIFEST_NAME, manifest.stored(PARAMETERS_NAME)]
    )


def test_a_failed_write_keeps_the_old_model(
    tiny: Ratings, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, data: bytes) -> None:
        raise OSError("disk full")

    before = sorted(p.name for p in saved.iterdir())
    monkeypatch.setattr(store_commit, "_write_file", broken)
    with pytest.raises(OutputError, match="disk full"):
        save_model(model_class("global-mean")().fit(tiny), saved)
    assert read_manifest(saved).model == "baseline"
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model"]
    assert sorted(p.name for p in saved.iterdir()) == before
    load_model(saved)


def test_refuses_to_replace_what_is_not_a_saved_model(tiny: Ratings, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    model = model_class("baseline")().fit(tiny)
    with pytest.raises(ConfigError, match="not a Matinee saved model"):
        save_model(model, tmp_path / "precious")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        save_model(model, tmp_path / "file")
    with pytest.raises(NotFittedError):
        save_model(model_class("baseline")(), tmp_path / "unfitted")
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "manifest",
    ['{"name": "my-web-app", "icons": []}', "[]", "not json", '{"format_version": 1}'],
)
def test_a_foreign_manifest_json_does_not_make_a_saved_model(
    tiny: Ratings, tmp_path: Path, manifest: str
) -> None:
    """A web project's manifest.json (or any other) must never get its folder replaced."""
    site = tmp_path / "site"
    site.mkdir()
    (site / MANIFEST_NAME).write_text(manifest)
    (site / "index.html").write_text("<h1>keep me</h1>")
    model = model_class("baseline")().fit(tiny)
    with pytest.raises(ConfigError, match="not a Matinee saved model"):
        save_model(model, site)
    assert sorted(p.name for p in site.iterdir()) == ["index.html", MANIFEST_NAME]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_missing_directory_and_manifest(tmp_path: Path, saved: Path) -> None:
    with pytest.raises(ModelFormatError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    (saved / MANIFEST_NAME).unlink()
    with pytest.raises(ModelFormatError, match=r"manifest\.json is missing"):
        load_model(saved)


def test_missing_truncated_and_tampered_parameters(saved: Path) -> None:
    parameters = _stored(saved, PARAMETERS_NAME)
    data = parameters.read_bytes()
    parameters.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ModelFormatError, match=r"parameters-\w+\.safetensors is truncated or was modified"
    ):
        load_model(saved)
    tampered = bytearray(data)
    tampered[-1] ^= 0xFF
    parameters.write_bytes(bytes(tampered))
    with pytest.raises(ModelFormatError, match="sha256"):
        load_model(saved)
    parameters.unlink()
    with pytest.raises(ModelFormatError, match=r"parameters-\w+\.safetensors is missing"):
        load_model(saved)


def test_tampered_movies_table_is_detected(saved: Path) -> None:
    _stored(saved, MOVIES_NAME).write_bytes(b"PAR1 not really")
    with pytest.raises(ModelFormatError, match=r"movies-\w+\.parquet is truncated or was modified"):
        read_movies(saved)


def test_newer_format_is_refused_with_advice(saved: Path) -> None:
    data = _manifest(saved)
    data["format_version"] = FORMAT_VERSION + 1
    _write_manifest(saved, data)
    with pytest.raises(ModelFormatError, match="saved by a newer Matinee"):
        load_model(saved)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("model"), "lacks the key 'model'"),
        (lambda d: d.update(format_version="1"), "'format_version' must be a JSON int"),
        (lambda d: d.update(format_version=0), "must be >= 1"),
        (lambda d: d.update(model="no-such-model"), "unknown model 'no-such-model'"),
        (lambda d: d["config"].update(bogus=1), "no field"),
        (lambda d: d["config"].update(reg_users=-5.0), "reg_users"),
        (lambda d: d["files"].update({"../evil": "0" * 64}), "plain file name"),
        (lambda d: d.update(history=[{"loss": "high"}]), "'history' must be a list"),
        (lambda d: d["arrays"]["movie_ids"].update(shape=[5]), "array 'movie_ids'"),
        (lambda d: d["arrays"].pop("movie_ids"), "arrays differ from the manifest"),
        (lambda d: d["arrays"].update(extra={"shape": "x", "dtype": 1}), "needs a shape list"),
    ],
)
def test_bad_manifests_name_the_problem(saved: Path, edit: object, message: str) -> None:
    data = _manifest(saved)
    assert callable(edit)
    edit(data)
    _write_manifest(saved, data)
    with pytest.raises(ModelFormatError, match=message):
        load_model(saved)


def test_manifest_that_is_not_json(saved: Path) -> None:
    (saved / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_model(saved)
    (saved / MANIFEST_NAME).write_text("[1, 2]")
    with pytest.raises(ModelFormatError, match="JSON object"):
        load_model(saved)


def test_parameters_that_do_not_fit_the_model(saved: Path, tiny: Ratings) -> None:
    # A consistent file (checksums and shapes agree) whose arrays belong to another model.
    other = model_class("global-mean")().fit(tiny)
    save_model(other, saved)
    data = _manifest(saved)
    data["model"], data["config"] = "baseline", model_class("baseline")().config.to_dict()
    _write_manifest(saved, data)
    with pytest.raises(ModelFormatError, match="baseline"):
        load_model(saved)


def test_manifest_json_round_trip() -> None:
    manifest = Manifest(model="m", config={"seed": 1}, arrays={}, files={}, metrics={"rmse": 1.0})
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
