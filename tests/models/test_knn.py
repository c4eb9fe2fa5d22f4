from __future__ import annotations

import numpy as np
import pytest

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError
from matinee.models.neighbours.knn import ItemKNN, ItemKNNConfig


def _hand_similarity(columns: np.ndarray, shrinkage: float) -> np.ndarray:
    norms = np.sqrt((columns**2).sum(axis=0))
    sims = (columns.T @ columns) / (np.outer(norms, norms) + shrinkage)
    np.fill_diagonal(sims, 0.0)
    return np.where(sims > 0, sims, 0.0)


def _binary(tiny: Ratings) -> np.ndarray:
    matrix = np.zeros((tiny.n_users, tiny.n_movies))
    matrix[tiny.user_idx, tiny.movie_idx] = 1.0
    return matrix


@pytest.mark.parametrize("shrinkage", [0.0, 3.0])
def test_cosine_matches_a_hand_computation(tiny: Ratings, shrinkage: float) -> None:
    model = ItemKNN(ItemKNNConfig(neighbours=10, shrinkage=shrinkage)).fit(tiny)
    expected = _hand_similarity(_binary(tiny), shrinkage)
    assert model.neighbours_ is not None
    np.testing.assert_allclose(model.neighbours_.toarray(), expected, atol=1e-6)
    np.testing.assert_allclose(model.score_users([0, 1])[0], _binary(tiny)[0] @ expected.T, 1e-5)


def test_adjusted_cosine_centres_each_user(tiny: Ratings) -> None:
    model = ItemKNN(ItemKNNConfig(similarity="adjusted-cosine", shrinkage=1.0)).fit(tiny)
    ratings = np.zeros((tiny.n_users, tiny.n_movies))
    ratings[tiny.user_idx, tiny.movie_idx] = tiny.rating
    means = ratings.sum(axis=1) / (ratings > 0).sum(axis=1)
    centred = np.where(ratings > 0, ratings - means[:, None], 0.0)
    expected = _hand_similarity(centred, 1.0)
    np.testing.assert_allclose(model.neighbours_.toarray(), expected, atol=1e-6)  # type: ignore[union-attr]
    np.testing.assert_allclose(model.score_users([2])[0], ratings[2] @ expected.T, atol=1e-5)


def test_each_movie_keeps_its_most_similar_neighbours(rng: np.random.Generator) -> None:
    users = rng.integers(0, 60, size=900)
    movies = rng.integers(0, 40, size=900)
    data = Ratings.from_raw(users, movies, np.ones(900))
    data = data.take(np.unique(data.user_idx * 1000 + data.movie_idx, return_index=True)[1])
    full = ItemKNN(ItemKNNConfig(neighbours=100, shrinkage=2.0)).fit(data).neighbours_
    kept = ItemKNN(ItemKNNConfig(neighbours=3, shrinkage=2.0)).fit(data).neighbours_
    assert full is not None and kept is not None
    dense_full, dense_kept = full.toarray(), kept.toarray()
    for row in range(data.n_movies):
        chosen = np.flatnonzero(dense_kept[row])
        assert chosen.size <= 3
        np.testing.assert_allclose(dense_kept[row, chosen], dense_full[row, chosen])
        assert dense_kept[row, chosen].min() >= np.sort(dense_full[row])[-3] - 1e-7


def test_new_user_folds_in_through_the_similarities(tiny: Ratings) -> None:
    model = ItemKNN(ItemKNNConfig(shrinkage=1.0)).fit(tiny)
    rows = tiny.user_idx == 2
    folded = model.score_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    np.testing.assert_allclose(folded, model.score_users([2])[0], atol=1e-6)


def test_parameters_round_trip(tiny: Ratings) -> None:
    model = ItemKNN(ItemKNNConfig(shrinkage=1.0)).fit(tiny)
    again = ItemKNN.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0, 3]), model.score_users([0, 3]))
    np.testing.assert_array_equal(again.movie_similarities(0), model.movie_similarities(0))


def test_predict_matches_score_users_for_pairs(tiny: Ratings) -> None:
    model = ItemKNN(ItemKNNConfig(shrinkage=1.0)).fit(tiny)
    full = model.score_users(np.arange(tiny.n_users))
    users = np.array([0, 1, 4], dtype=np.int32)
    movies = np.array([3, 2, 0], dtype=np.int32)
    np.testing.assert_allclose(
        model.predict(users, movies), np.clip(full[users, movies], 1.0, 5.0), atol=1e-6
    )


@pytest.mark.parametrize("field, value", [("neighbours", 0), ("shrinkage", -1.0)])
def test_config_rejects_bad_values(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        ItemKNNConfig(**{field: value})  # type: ignore[arg-type]
