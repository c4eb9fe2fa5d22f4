from __future__ import annotations

import numpy as np
import pytest

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError
from matinee.models.neighbours.rp3beta import RP3Beta, RP3BetaConfig


def _binary(ratings: Ratings, threshold: float | None = None) -> np.ndarray:
    matrix = np.zeros((ratings.n_users, ratings.n_movies))
    keep = np.ones(len(ratings), bool) if threshold is None else ratings.rating >= threshold
    matrix[ratings.user_idx[keep], ratings.movie_idx[keep]] = 1.0
    return matrix


def _direct_weights(matrix: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    user_rows = matrix.sum(axis=1, keepdims=True)
    movie_rows = matrix.T.sum(axis=1, keepdims=True)
    user_to_movie = np.divide(matrix, user_rows, out=np.zeros_like(matrix), where=user_rows > 0)
    movie_to_user = np.divide(
        matrix.T, movie_rows, out=np.zeros_like(matrix.T), where=movie_rows > 0
    )
    weights = (movie_to_user**alpha) @ (user_to_movie**alpha)
    popularity = matrix.sum(axis=0)
    weights = weights / np.where(popularity > 0, popularity**beta, np.inf)[np.newaxis, :]
    np.fill_diagonal(weights, 0.0)
    return np.asarray(weights, dtype=np.float64)


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (0.5, 0.3), (1.5, 1.0)])
def test_weights_equal_the_random_walk(tiny: Ratings, alpha: float, beta: float) -> None:
    model = RP3Beta(RP3BetaConfig(alpha=alpha, beta=beta, neighbours=50)).fit(tiny)
    expected = _direct_weights(_binary(tiny), alpha, beta)
    assert model.weights_ is not None
    np.testing.assert_allclose(model.weights_.toarray(), expected, rtol=1e-6, atol=1e-7)
    scores = model.score_users(np.arange(tiny.n_users))
    np.testing.assert_allclose(scores, _binary(tiny) @ expected, rtol=1e-5, atol=1e-6)


def test_beta_divides_each_target_by_its_popularity(tiny: Ratings) -> None:
    undamped = RP3Beta(RP3BetaConfig(beta=0.0, neighbours=50)).fit(tiny).weights_
    damped = RP3Beta(RP3BetaConfig(beta=0.5, neighbours=50)).fit(tiny).weights_
    assert undamped is not None and damped is not None
    popularity = _binary(tiny).sum(axis=0)
    np.testing.assert_allclose(
        damped.toarray(), undamped.toarray() / np.sqrt(popularity)[np.newaxis, :], rtol=1e-6
    )


def test_threshold_keeps_only_liked_movies(tiny: Ratings) -> None:
    model = RP3Beta(RP3BetaConfig(positive_threshold=4.0, neighbours=50)).fit(tiny)
    expected = _direct_weights(_binary(tiny, 4.0), 1.0, 0.3)
    np.testing.assert_allclose(model.weights_.toarray(), expected, rtol=1e-6, atol=1e-7)  # type: ignore[union-attr]


def test_each_movie_keeps_its_largest_weights(rng: np.random.Generator) -> None:
    users = rng.integers(0, 60, size=900)
    movies = rng.integers(0, 40, size=900)
    data = Ratings.from_raw(users, movies, np.ones(900))
    data = data.take(np.unique(data.user_idx * 1000 + data.movie_idx, return_index=True)[1])
    full = RP3Beta(RP3BetaConfig(neighbours=100)).fit(data).weights_
    kept = RP3Beta(RP3BetaConfig(neighbours=3)).fit(data).weights_
    assert full is not None and kept is not None
    dense_full, dense_kept = full.toarray(), kept.toarray()
    for row in range(data.n_movies):
        chosen = np.flatnonzero(dense_kept[row])
        assert chosen.size <= 3
        np.testing.assert_allclose(dense_kept[row, chosen], dense_full[row, chosen])
        assert dense_kept[row, chosen].min() >= np.sort(dense_full[row])[-3] - 1e-7


def test_new_user_with_a_known_users_movies_scores_like_that_user(tiny: Ratings) -> None:
    model = RP3Beta(RP3BetaConfig(neighbours=50)).fit(tiny)
    rows = tiny.user_idx == 1
    folded = model.score_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    np.testing.assert_allclose(folded, model.score_users([1])[0], atol=1e-6)


def test_predict_matches_score_users_for_pairs(tiny: Ratings) -> None:
    model = RP3Beta(RP3BetaConfig(neighbours=50)).fit(tiny)
    users = np.array([0, 1, 2, 4], dtype=np.int32)
    movies = np.array([3, 0, 1, 2], dtype=np.int32)
    full = model.score_users(np.arange(tiny.n_users))
    low, high = tiny.rating_scale
    np.testing.assert_allclose(
        model.predict(users, movies), np.clip(full[users, movies], low, high), atol=1e-6
    )


def test_parameters_round_trip(tiny: Ratings) -> None:
    model = RP3Beta(RP3BetaConfig(alpha=0.8, neighbours=50)).fit(tiny)
    again = RP3Beta.from_parameters(model.config, model.parameters())
    np.testing.assert_allclose(again.score_users([0, 3]), model.score_users([0, 3]))


@pytest.mark.parametrize(
    ("field", "value"), [("alpha", 0.0), ("beta", -0.1), ("beta", 1.5), ("neighbours", 0)]
)
def test_bad_config_names_the_value(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        RP3BetaConfig(**{field: value})  # type: ignore[arg-type]
