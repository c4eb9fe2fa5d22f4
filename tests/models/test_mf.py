"""DotProductMF and BiasedMF: low-rank recovery, determinism, fold-in, divergence, ml-100k band."""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFitError, ModelFormatError
from matinee.models.factorization import _sgd
from matinee.models.factorization.mf import (
    BiasedMF,
    BiasedMFConfig,
    DotProductMF,
    DotProductMFConfig,
)


def _low_rank(seed: int, *, biased: bool) -> tuple[Ratings, Ratings]:
    """A rank-2 users x movies matrix (plus biases), 70% observed for training, rest held out."""
    rng = np.random.default_rng(seed)
    n_users, n_movies = 60, 40
    users = rng.uniform(0.5, 1.2, (n_users, 2))
    movies = rng.uniform(0.5, 1.2, (n_movies, 2))
    full = users @ movies.T
    if biased:
        full = full + rng.normal(0, 0.4, (n_users, 1)) + rng.normal(0, 0.4, (1, n_movies)) + 1.5
    full = np.clip(full, 1.0, 5.0)
    user_idx, movie_idx = (a.ravel() for a in np.indices(full.shape))
    observed = rng.random(full.size) < 0.7
    ratings = Ratings(
        user_idx.astype(np.int32),
        movie_idx.astype(np.int32),
        full.ravel(),
        np.zeros(full.size, dtype=np.int64),
        IdMap(np.arange(n_users), kind="user"),
        IdMap(np.arange(n_movies), kind="movie"),
        (1.0, 5.0),
    )
    return ratings.take(observed), ratings.take(~observed)


def _rmse(model: DotProductMF, data: Ratings) -> float:
    predicted = model.predict(data.user_idx, data.movie_idx)
    return float(np.sqrt(np.mean((predicted - data.rating) ** 2)))


def test_dot_product_mf_recovers_a_low_rank_matrix() -> None:
    train, held_out = _low_rank(0, biased=False)
    config = DotProductMFConfig(
        n_factors=4, epochs=200, learning_rate=0.02, lr_decay=1.0, reg=0.001
    )
    model = DotProductMF(config).fit(train)
    assert _rmse(model, train) < 0.05
    assert _rmse(model, held_out) < 0.1


@pytest.mark.parametrize("solver", ["sgd", "als"])
def test_biased_mf_recovers_a_low_rank_matrix_with_biases(solver: str) -> None:
    train, held_out = _low_rank(1, biased=True)
    config = BiasedMFConfig(
        solver=solver, n_factors=4, epochs=150, learning_rate=0.02, lr_decay=1.0, reg=0.001
    )
    model = BiasedMF(config).fit(train)
    assert _rmse(model, held_out) < 0.15
    baseline_rmse = float(np.std(held_out.rating))
    assert _rmse(model, held_out) < baseline_rmse / 3


@pytest.mark.parametrize("solver", ["sgd", "als"])
def test_same_seed_same_model_whatever_the_thread_count(
    solver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sgd, "PARALLEL_MIN_RATINGS", 0)
    train, _ = _low_rank(2, biased=True)
    config = BiasedMFConfig(solver=solver, n_factors=3, epochs=5)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = BiasedMF(config).fit(train).parameters()
    finally:
        numba.set_num_threads(threads)
    parallel = BiasedMF(config).fit(train).parameters()
    for key, value in single.items():
        assert np.array_equal(value, parallel[key]), key
    other = BiasedMF(BiasedMFConfig(solver=solver, n_factors=3, epochs=5, seed=1)).fit(train)
    assert not np.array_equal(other.parameters()["movie_factors"], single["movie_factors"])


def test_learning_rate_decays_per_epoch() -> None:
    train, _ = _low_rank(3, biased=True)
    config = BiasedMFConfig(epochs=3, learning_rate=0.01, lr_decay=0.5)
    history = BiasedMF(config).fit(train).history_
    assert [record["learning_rate"] for record in history] == pytest.approx([0.01, 0.005, 0.0025])


@pytest.mark.parametrize("model_type", [DotProductMF, BiasedMF])
def test_fold_in_of_a_training_user_is_close_to_the_trained_user(
    model_type: type[DotProductMF],
) -> None:
    train, _ = _low_rank(4, biased=model_type is BiasedMF)
    config = model_type.config_type(n_factors=3, epochs=100, lr_decay=1.0, reg=0.01)
    model = model_type(config).fit(train)
    rows = train.user_idx == 7
    folded = model.score_new_user(train.movie_idx[rows], train.rating[rows])
    trained = model.score_users([7])[0]
    assert np.max(np.abs(folded - trained)) < 0.15


def test_divergence_raises_a_clear_error() -> None:
    train, _ = _low_rank(5, biased=True)
    config = BiasedMFConfig(learning_rate=0.9, lr_decay=1.0, reg=0.0, init_std=5.0, epochs=20)
    with pytest.raises(ModelFitError, match=r"diverged|NaN or infinite"):
        BiasedMF(config).fit(train)


def test_early_stopping_restores_the_best_epoch() -> None:
    train, held_out = _low_rank(6, biased=True)
    config = BiasedMFConfig(n_factors=20, epochs=60, lr_decay=1.0, reg=0.0, patience=3)
    model = BiasedMF(config).fit(train, held_out)
    losses = [record["val_loss"] for record in model.history_]
    assert _rmse(model, held_out) == pytest.approx(min(losses), abs=1e-4)


def test_round_trip_and_shape_checks() -> None:
    train, _ = _low_rank(7, biased=True)
    model = BiasedMF(BiasedMFConfig(n_factors=3, epochs=3)).fit(train)
    params = model.parameters()
    loaded = BiasedMF.from_parameters(model.config, params)
    assert np.array_equal(loaded.score_users([0, 5]), model.score_users([0, 5]))
    assert loaded.movie_vectors() is not None and loaded.movie_biases() is not None
    wider = BiasedMF(BiasedMFConfig(n_factors=4))
    with pytest.raises(ModelFormatError, match=r"user_factors"):
        type(wider).from_parameters(wider.config, params)


@pytest.mark.parametrize(
    "values",
    [{"n_factors": 0}, {"learning_rate": 0.0}, {"lr_decay": 1.5}, {"reg": -1.0}, {"solver": "x"}],
)
def test_bad_config_is_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        BiasedMFConfig(**values)  # type: ignore[arg-type]


def _ml100k_u1(mirror: Path) -> tuple[Ratings, Ratings]:
    names = ["user", "movie", "rating", "time"]
    frames = [
        pl.read_csv(
            mirror / "ml-100k" / f"u1.{part}", separator="\t", has_header=False, new_columns=names
        )
        for part in ("base", "test")
    ]
    users = IdMap(np.concatenate([f["user"] for f in frames]), kind="user")
    movies = IdMap(np.concatenate([f["movie"] for f in frames]), kind="movie")
    train, test = (
        Ratings(
            users.indices(f["user"].to_numpy()),
            movies.indices(f["movie"].to_numpy()),
            f["rating"].to_numpy(),
            f["time"].to_numpy(),
            users,
            movies,
            (1.0, 5.0),
        )
        for f in frames
    )
    return train, test


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model_type", "config", "high"),
    [
        (DotProductMF, DotProductMFConfig(), 0.96),
        (BiasedMF, BiasedMFConfig(), 0.925),
        (BiasedMF, BiasedMFConfig(solver="als", reg=0.12, n_factors=50, epochs=15), 0.935),
    ],
    ids=["mf", "biased-mf-sgd", "biased-mf-als"],
)
def test_ml100k_u1_rmse_band(
    mirror: Path, model_type: type[DotProductMF], config: DotProductMFConfig, high: float
) -> None:
    train, test = _ml100k_u1(mirror)
    assert 0.88 < _rmse(model_type(config).fit(train), test) < high


@given(st.lists(st.integers(0, 50), min_size=1, max_size=60))
@settings(max_examples=50, deadline=None)
def test_busiest_first_numbers_rows_by_falling_count(counts: list[int]) -> None:
    values = np.array(counts)
    ranks = _sgd.busiest_first(values)
    assert sorted(ranks.tolist()) == list(range(values.size))
    by_rank = np.empty_like(values)
    by_rank[ranks] = values
    assert np.all(np.diff(by_rank) <= 0)


def test_renumbered_training_reports_the_saved_models_validation_rmse() -> None:
    train, held_out = _low_rank(3, biased=True)
    model = BiasedMF(BiasedMFConfig(n_factors=4, epochs=5)).fit(train, held_out)
    predicted = np.clip(model.predict(held_out.user_idx, held_out.movie_idx), *train.rating_scale)
    rmse = float(np.sqrt(np.mean((predicted - held_out.rating) ** 2)))
    assert model.history_[-1]["val_loss"] == pytest.approx(rmse, rel=1e-5)
