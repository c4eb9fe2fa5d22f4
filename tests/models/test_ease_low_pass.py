"""EASE's low-pass option: GF-CF's ideal filter added to the weights (Shen et al. 2021)."""

from __future__ import annotations

import numpy as np

from matinee.data.ratings import Ratings
from matinee.models.neighbours.ease import EASE, EASEConfig


def _binary(ratings: Ratings) -> np.ndarray:
    matrix = np.zeros((ratings.n_users, ratings.n_movies))
    matrix[ratings.user_idx, ratings.movie_idx] = 1.0
    return matrix


def _filter_by_hand(matrix: np.ndarray, n_factors: int) -> np.ndarray:
    """``D_i^-1/2 V_k V_k^T D_i^1/2`` from a dense SVD, its diagonal set to 0."""
    user_counts, movie_counts = matrix.sum(axis=1), matrix.sum(axis=0)
    normalised = matrix / np.sqrt(user_counts)[:, None] / np.sqrt(movie_counts)[None, :]
    _, _, right = np.linalg.svd(normalised)
    top = right[:n_factors]
    result = (top.T / np.sqrt(movie_counts)[:, None]) @ (top * np.sqrt(movie_counts)[None, :])
    np.fill_diagonal(result, 0.0)
    return result


def test_weights_are_ease_plus_the_scaled_filter(tiny: Ratings) -> None:
    plain = EASE(EASEConfig(reg=2.0, precision="float64")).fit(tiny)
    config = EASEConfig(reg=2.0, precision="float64", low_pass_factors=2, low_pass_weight=0.5)
    model = EASE(config).fit(tiny)
    assert plain.weights_ is not None and model.weights_ is not None
    by_hand = _filter_by_hand(_binary(tiny), 2)
    scale = np.abs(plain.weights_).mean() / np.abs(by_hand).mean()
    np.testing.assert_allclose(model.weights_, plain.weights_ + 0.5 * scale * by_hand, atol=1e-9)
    assert np.all(np.diag(model.weights_) == 0.0)


def test_more_factors_than_the_data_holds_are_capped(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=2.0, precision="float64", low_pass_factors=500)).fit(tiny)
    capped = EASE(EASEConfig(reg=2.0, precision="float64", low_pass_factors=3)).fit(tiny)
    np.testing.assert_allclose(model.weights_, capped.weights_, atol=1e-9)  # type: ignore[arg-type]


def test_filtered_model_saves_and_scores_new_users_alike(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=2.0, low_pass_factors=2)).fit(tiny)
    again = EASE.from_parameters(model.config, model.parameters())
    users = np.arange(tiny.n_users)
    np.testing.assert_array_equal(again.score_users(users), model.score_users(users))
    first = tiny.user_idx == 0
    new = model.score_new_user(tiny.movie_idx[first], tiny.rating[first])
    np.testing.assert_allclose(new, model.score_users([0])[0], atol=1e-6)
