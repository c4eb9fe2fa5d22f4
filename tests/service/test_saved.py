"""What a bundle saves, and models saved before it: today's format still loads and answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee.data.canonical import canonical_split
from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.errors import ModelFormatError
from matinee.models.baselines.popular import MostPopular
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.service import RATED_NAME, ModelBundle, save_bundle
from matinee.service.saved import rated_csr
from matinee.settings import Settings
from matinee.store.files import MOVIES_NAME, load_model, read_manifest, save_model
from matinee.store.manifest import FORMAT_VERSION


def test_saved_files_are_listed_and_counted(saved: Path, ml100k: Dataset) -> None:
    manifest = json.loads((saved / "ease" / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert {RATED_NAME, MOVIES_NAME} <= set(manifest["files"])
    table = pl.read_parquet(saved / "ease" / read_manifest(saved / "ease").stored(MOVIES_NAME))
    counts = dict(zip(table["movie_id"].to_list(), table["n_ratings"].to_list(), strict=True))
    expected = ml100k.ratings.movie_counts()
    assert counts[50] == 583 and sum(counts.values()) == int(expected.sum())


def test_known_users_answer_without_the_dataset(
    saved: Path, ml100k: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bundle reloaded the dataset")

    monkeypatch.setattr("matinee.data.loader.load_dataset", refuse)
    bundle = ModelBundle.load(saved / "ease")
    assert bundle.training is not None
    rated = bundle.training.rated
    assert rated.nnz == len(ml100k.ratings)
    row = rated[0]
    expected = ml100k.ratings.user_movie_matrix()[0]
    assert np.array_equal(row.indices, expected.indices)
    assert np.array_equal(row.data, expected.data)


def test_a_model_saved_before_falls_back_to_its_release(
    ml100k: Dataset, settings: Settings, tmp_path: Path
) -> None:
    split = canonical_split(ml100k, "u1")
    model = EASE(EASEConfig(reg=300.0)).fit(split.train)
    old = save_model(
        model, tmp_path / "old", movies=ml100k.movies, extra={"dataset": "ml-100k", "split": "u1"}
    )
    new = save_bundle(
        model, tmp_path / "new", train=split.train, movies=ml100k.movies, extra={"dataset": "x"}
    )
    before, now = ModelBundle.load(old, settings=settings), ModelBundle.load(new)
    assert before.training is not None and now.training is not None
    assert (before.training.rated != now.training.rated).nnz == 0  # the u1 training part
    assert np.array_equal(before.catalog.counts, now.catalog.counts)
    assert before.recommend_user(1, k=10) == now.recommend_user(1, k=10)


def test_a_model_without_movies_or_release_still_answers(ml100k: Dataset, tmp_path: Path) -> None:
    model = MostPopular().fit(ml100k.ratings)
    bare = ModelBundle.load(save_model(model, tmp_path / "bare"))
    assert bare.training is None and not bare.catalog.has_titles
    rows = bare.recommend_new_user({1: 5}, k=3)
    assert [row.movie.title for row in rows] == [f"movie {row.movie.movie_id}" for row in rows]
    assert all(row.because == () for row in rows)  # popularity explains nothing
    with pytest.raises(Exception, match="training ratings"):
        bare.recommend_user(1)


def test_a_tampered_rated_file_is_refused(saved: Path, tmp_path: Path) -> None:
    import shutil

    copy = shutil.copytree(saved / "baseline", tmp_path / "baseline")
    stored = copy / read_manifest(copy).stored(RATED_NAME)
    data = bytearray(stored.read_bytes())
    data[-1] ^= 1
    stored.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=stored.name):
        ModelBundle.load(copy)


def test_load_model_takes_a_device(saved: Path) -> None:
    model = load_model(saved / "ease", device="cpu")  # numpy models ignore it
    assert model.is_fitted
    assert ModelBundle.load(saved / "ease", device="cpu").model.n_movies == 1682


def test_an_old_model_really_reads_its_release(
    ml100k: Dataset, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MostPopular().fit(ml100k.ratings)
    old = save_model(model, tmp_path / "old", extra={"dataset": "ml-100k"})
    calls: list[str] = []
    import matinee.data.loader as loader

    real = loader.load_dataset

    def counted(name: str, **kwargs: object) -> Dataset:
        calls.append(name)
        return real(name, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "load_dataset", counted)
    bundle = ModelBundle.load(old, settings=settings)
    assert calls == ["ml-100k"]
    assert bundle.catalog.has_titles and bundle.movie(50).n_ratings == 583


def test_neural_models_move_to_the_device_asked_for(
    low_rank: Callable[..., tuple[Ratings, Ratings]], tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    from matinee.errors import ConfigError
    from matinee.models.neural.embedding_net import EmbeddingNet, EmbeddingNetConfig

    train, _ = low_rank(3)
    model = EmbeddingNet(EmbeddingNetConfig(epochs=2)).fit(train)
    directory = save_model(model, tmp_path / "net")
    moved = load_model(directory, device="cpu")
    users, movies = np.arange(5), np.arange(5)
    assert np.allclose(moved.predict(users, movies), model.predict(users, movies), atol=1e-6)
    assert next(moved._net.parameters()).device.type == "cpu"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="device"):
        load_model(directory, device="tpu")


def test_rated_matrix_of_the_fitted_ratings_is_a_copy_of_theirs(ml100k: Dataset) -> None:
    train = ml100k.ratings.take(np.arange(len(ml100k.ratings)) % 3 != 0)
    model = MostPopular().fit(train)
    rated = rated_csr(model, train)
    expected = np.zeros((train.n_users, train.n_movies), dtype=np.float32)
    expected[train.user_idx, train.movie_idx] = train.rating
    assert np.array_equal(rated.toarray(), expected) and rated.has_sorted_indices
    rated.data[:] = 0.0
    assert train.user_movie_matrix().data.min() >= 1.0
