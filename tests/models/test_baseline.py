"""GlobalMean and BiasBaseline: hand-computed answers on tiny data, fold-in, ml-100k band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError
from matinee.models.baselines.baseline import BiasBaseline, BiasBaselineConfig, GlobalMean


def _ml100k_fold(mirror: Path, fold: int) -> tuple[Ratings, Ratings]:
    folder = mirror / "ml-100k"
    names = ["user", "movie", "rating", "time"]
    base, test = (
        pl.read_csv(folder / f"u{fold}.{part}", separator="\t", has_header=False, new_columns=names)
        for part in ("base", "test")
    )
    users = IdMap(np.concatenate([base["user"], test["user"]]), kind="user")
    movies = IdMap(np.concatenate([base["movie"], test["movie"]]), kind="movie")

    def ratings(frame: pl.DataFrame) -> Ratings:
        return Ratings(
            users.indices(frame["user"].to_numpy()),
            movies.indices(frame["movie"].to_numpy()),
            frame["rating"].to_numpy(),
            frame["time"].to_numpy(),
            users,
            movies,
            (1.0, 5.0),
        )

    return ratings(base), ratings(test)


def test_global_mean_predicts_the_training_mean(tiny: Ratings) -> None:
    model = GlobalMean().fit(tiny)
    assert np.allclose(model.predict([0, 1, 4], [0, 2, 3]), np.mean(tiny.rating))
    assert model.score_users([0, 1]).shape == (2, tiny.n_movies)
    assert np.allclose(model.score_new_user([0], [5.0]), np.mean(tiny.rating))


def test_one_als_round_matches_the_hand_computation(tiny: Ratings) -> None:
    config = BiasBaselineConfig(epochs=1, reg_users=2.0, reg_movies=3.0)
    model = BiasBaseline(config).fit(tiny)
    mu = float(np.mean(tiny.rating))
    movie_bias = np.zeros(tiny.n_movies)
    for i in range(tiny.n_movies):
        rows = tiny.movie_idx == i
        movie_bias[i] = np.sum(tiny.rating[rows] - mu) / (3.0 + rows.sum())
    user_bias = np.zeros(tiny.n_users)
    for u in range(tiny.n_users):
        rows = tiny.user_idx == u
        residual = tiny.rating[rows] - mu - movie_bias[tiny.movie_idx[rows]]
        user_bias[u] = residual.sum() / (2.0 + rows.sum())
    assert np.allclose(model.movie_biases(), movie_bias, atol=1e-6)
    assert np.allclose(model.parameters()["user_bias"], user_bias, atol=1e-6)
    assert model.predict([1], [3])[0] == pytest.approx(mu + user_bias[1] + movie_bias[3], abs=1e-5)


def test_many_rounds_reach_the_joint_ridge_solution(tiny: Ratings) -> None:
    reg_users, reg_movies = 1.5, 2.5
    model = BiasBaseline(
        BiasBaselineConfig(epochs=300, reg_users=reg_users, reg_movies=reg_movies)
    ).fit(tiny)
    n_users, n_movies = tiny.n_users, tiny.n_movies
    design = np.zeros((len(tiny), n_users + n_movies))
    design[np.arange(len(tiny)), tiny.user_idx] = 1.0
    design[np.arange(len(tiny)), n_users + tiny.movie_idx] = 1.0
    penalty = np.diag([reg_users] * n_users + [reg_movies] * n_movies)
    target = tiny.rating - np.mean(tiny.rating)
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ target)
    params = model.parameters()
    assert np.allclose(params["user_bias"], solution[:n_users], atol=1e-4)
    assert np.allclose(params["movie_bias"], solution[n_users:], atol=1e-4)


def test_fold_in_of_a_training_user_gives_their_trained_scores(tiny: Ratings) -> None:
    model = BiasBaseline(BiasBaselineConfig(epochs=5)).fit(tiny)
    rows = tiny.user_idx == 2
    folded = model.score_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    assert np.allclose(folded, model.score_users([2])[0], atol=1e-5)


def test_validation_history_and_early_stopping(tiny: Ratings) -> None:
    config = BiasBaselineConfig(epochs=30, patience=2, min_delta=0.01)
    model = BiasBaseline(config).fit(tiny, tiny)
    assert 2 < len(model.history_) < 30
    assert all("val_loss" in record for record in model.history_)


@pytest.mark.parametrize("field", ["reg_users", "reg_movies", "epochs"])
def test_bad_values_are_rejected(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        BiasBaselineConfig(**{field: -1})


def test_round_trip_keeps_predictions(tiny: Ratings) -> None:
    model = BiasBaseline().fit(tiny)
    loaded = BiasBaseline.from_parameters(model.config, model.parameters())
    assert np.array_equal(loaded.score_users([0, 1, 2]), model.score_users([0, 1, 2]))


@pytest.mark.slow
def test_ml100k_u1_rmse_band(mirror: Path) -> None:
    train, test = _ml100k_fold(mirror, 1)
    predicted = BiasBaseline().fit(train).predict(test.user_idx, test.movie_idx)
    rmse = float(np.sqrt(np.mean((predicted - test.rating) ** 2)))
    assert 0.945 < rmse < 0.96
