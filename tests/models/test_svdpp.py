"""SVD++: the implicit signal, determinism, fold-in, round trip, and an ml-100k band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFitError
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.models.factorization.svdpp import SVDpp, SVDppConfig, implicit_sums


def _implicit_signal(seed: int) -> tuple[Ratings, Ratings]:
    """Two kinds of users, told apart only by which movies they rated, not by the values.

    Each kind rates its own "marker" movies (always 3 stars) and likes a genre the other kind
    dislikes. A user's training ratings hold just the markers, so only the implicit signal says
    what they will think of the held-out genre movies.
    """
    rng = np.random.default_rng(seed)
    n_users, markers, genre = 80, 6, 10
    rows: list[tuple[int, int, float]] = []
    held: list[tuple[int, int, float]] = []
    for user in range(n_users):
        kind = user % 2
        for marker in rng.choice(markers, size=4, replace=False):
            rows.append((user, kind * markers + int(marker), 3.0))
        likes = range(2 * markers + kind * genre, 2 * markers + (kind + 1) * genre)
        dislikes = range(2 * markers + (1 - kind) * genre, 2 * markers + (2 - kind) * genre)
        target = held if user < 16 else rows
        for movie in likes:
            target.append((user, movie, 5.0))
        for movie in dislikes:
            target.append((user, movie, 1.0))
    users = IdMap(np.arange(n_users), kind="user")
    movies = IdMap(np.arange(2 * markers + 2 * genre), kind="movie")

    def ratings(data: list[tuple[int, int, float]]) -> Ratings:
        array = np.asarray(data)
        return Ratings(
            array[:, 0].astype(np.int32),
            array[:, 1].astype(np.int32),
            array[:, 2],
            np.zeros(len(array), dtype=np.int64),
            users,
            movies,
            (1.0, 5.0),
        )

    return ratings(rows), ratings(held)


def _rmse(model: BiasedMF | SVDpp, data: Ratings) -> float:
    predicted = model.predict(data.user_idx, data.movie_idx)
    return float(np.sqrt(np.mean((predicted - data.rating) ** 2)))


def test_svdpp_uses_who_rated_what() -> None:
    train, held_out = _implicit_signal(0)
    common = {"n_factors": 4, "epochs": 100, "learning_rate": 0.02, "lr_decay": 1.0, "reg": 0.01}
    svdpp = SVDpp(SVDppConfig(**common, reg_implicit=0.01)).fit(train)
    biased = BiasedMF(BiasedMFConfig(**common)).fit(train)
    assert _rmse(biased, held_out) > 1.5
    assert _rmse(svdpp, held_out) < 1.0


def test_implicit_sums_match_the_definition(rng: np.random.Generator) -> None:
    factors = rng.normal(size=(5, 3)).astype(np.float32)
    indptr = np.array([0, 2, 2, 5])
    movies = np.array([0, 3, 1, 2, 4], dtype=np.int32)
    sums = implicit_sums(indptr, movies, factors)
    assert np.allclose(sums[0], (factors[0] + factors[3]) / np.sqrt(2), atol=1e-6)
    assert np.allclose(sums[1], 0.0)
    assert np.allclose(sums[2], factors[[1, 2, 4]].sum(axis=0) / np.sqrt(3), atol=1e-6)


def test_same_seed_same_model(tiny: Ratings) -> None:
    first = SVDpp(SVDppConfig(epochs=5, n_factors=3)).fit(tiny).parameters()
    again = SVDpp(SVDppConfig(epochs=5, n_factors=3)).fit(tiny).parameters()
    other = SVDpp(SVDppConfig(epochs=5, n_factors=3, seed=3)).fit(tiny).parameters()
    assert all(np.array_equal(value, again[key]) for key, value in first.items())
    assert not np.array_equal(first["implicit_factors"], other["implicit_factors"])


def test_fold_in_of_a_training_user_is_close_to_the_trained_user() -> None:
    train, _ = _implicit_signal(1)
    config = SVDppConfig(n_factors=4, epochs=80, learning_rate=0.02, lr_decay=1.0, reg=0.01)
    model = SVDpp(config).fit(train)
    rows = train.user_idx == 30
    folded = model.score_new_user(train.movie_idx[rows], train.rating[rows])
    assert np.max(np.abs(folded - model.score_users([30])[0])) < 0.3


def test_round_trip_keeps_predictions(tiny: Ratings) -> None:
    model = SVDpp(SVDppConfig(epochs=3, n_factors=2)).fit(tiny)
    loaded = SVDpp.from_parameters(model.config, model.parameters())
    assert np.array_equal(loaded.predict([0, 1], [1, 3]), model.predict([0, 1], [1, 3]))
    assert loaded.movie_vectors() is not None and loaded.movie_biases() is not None


def test_divergence_raises_a_clear_error(tiny: Ratings) -> None:
    config = SVDppConfig(learning_rate=0.99, lr_decay=1.0, init_std=10.0, reg=0.0, epochs=30)
    with pytest.raises(ModelFitError):
        SVDpp(config).fit(tiny)


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ConfigError, match="reg_implicit"):
        SVDppConfig(reg_implicit=-0.1)


@pytest.mark.slow
def test_ml100k_u1_not_worse_than_biased_mf(mirror: Path) -> None:
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
    svdpp = _rmse(SVDpp().fit(train), test)
    assert svdpp < 0.925
    assert svdpp <= _rmse(BiasedMF().fit(train), test) + 0.002
