from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import matinee.models.ease as ease_module
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, NotFittedError
from matinee.models.ease import EASE, EASEConfig, movies_that_fit


def _binary(ratings: Ratings, threshold: float | None = None) -> np.ndarray:
    matrix = np.zeros((ratings.n_users, ratings.n_movies))
    keep = np.ones(len(ratings), bool) if threshold is None else ratings.rating >= threshold
    matrix[ratings.user_idx[keep], ratings.movie_idx[keep]] = 1.0
    return matrix


def _direct_weights(matrix: np.ndarray, regularization: float) -> np.ndarray:
    inverse = np.linalg.inv(matrix.T @ matrix + regularization * np.eye(matrix.shape[1]))
    weights = np.eye(matrix.shape[1]) - inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return weights


@pytest.mark.parametrize("regularization", [0.5, 2.0, 30.0])
def test_weights_equal_the_closed_form(tiny: Ratings, regularization: float) -> None:
    model = EASE(EASEConfig(regularization=regularization)).fit(tiny)
    expected = _direct_weights(_binary(tiny), regularization)
    assert model.weights_ is not None
    np.testing.assert_allclose(model.weights_, expected, atol=1e-10)
    scores = model.score_users(np.arange(tiny.n_users))
    np.testing.assert_allclose(scores, _binary(tiny) @ expected, atol=1e-6)


def test_threshold_keeps_only_liked_movies(tiny: Ratings) -> None:
    model = EASE(EASEConfig(regularization=1.0, positive_threshold=4.0)).fit(tiny)
    expected = _direct_weights(_binary(tiny, 4.0), 1.0)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-10)  # type: ignore[arg-type]


def test_float32_is_close_to_float64(tiny: Ratings) -> None:
    wide = EASE(EASEConfig(regularization=2.0)).fit(tiny)
    narrow = EASE(EASEConfig(regularization=2.0, precision="float32")).fit(tiny)
    assert narrow.weights_ is not None and narrow.weights_.dtype == np.float32
    np.testing.assert_allclose(narrow.weights_, wide.weights_, atol=1e-5)  # type: ignore[arg-type]


def test_new_user_with_a_known_users_movies_scores_like_that_user(tiny: Ratings) -> None:
    model = EASE(EASEConfig(regularization=2.0)).fit(tiny)
    rows = tiny.user_idx == 0
    folded = model.score_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    np.testing.assert_allclose(folded, model.score_users([0])[0], atol=1e-6)


def test_predict_matches_score_users_for_pairs(tiny: Ratings) -> None:
    model = EASE(EASEConfig(regularization=2.0)).fit(tiny)
    users = np.array([0, 1, 2, 4], dtype=np.int32)
    movies = np.array([3, 0, 1, 2], dtype=np.int32)
    full = model.score_users(np.arange(tiny.n_users))
    low, high = tiny.rating_scale
    np.testing.assert_allclose(
        model.predict(users, movies), np.clip(full[users, movies], low, high), atol=1e-6
    )


def test_refuses_more_movies_than_the_limit(tiny: Ratings) -> None:
    with pytest.raises(ConfigError, match=r"4 movies.*max_movies=3.*24 GiB holds about"):
        EASE(EASEConfig(max_movies=3)).fit(tiny)


def test_movies_that_fit_follows_the_square_law() -> None:
    assert movies_that_fit(8 * 1000**2, "float64") == 1000
    assert movies_that_fit(4 * 1000**2, "float32") == 1000
    assert movies_that_fit(24 * 1024**3, "float64") > 50_000


def test_parameters_round_trip(tiny: Ratings) -> None:
    model = EASE(EASEConfig(regularization=2.0)).fit(tiny)
    again = EASE.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0, 3]), model.score_users([0, 3]))
    np.testing.assert_array_equal(
        again.score_new_user([1, 2], [5.0, 1.0]), model.score_new_user([1, 2], [5.0, 1.0])
    )


def test_similarities_average_row_and_column(tiny: Ratings) -> None:
    model = EASE(EASEConfig(regularization=2.0)).fit(tiny)
    weights = model.weights_
    assert weights is not None
    np.testing.assert_allclose(model.movie_similarities(1), (weights[1] + weights[:, 1]) / 2)


@pytest.mark.parametrize(
    "field, value",
    [
        ("regularization", 0.0),
        ("regularization", -1.0),
        ("max_movies", 0),
        ("dropout", 1.0),
        ("activity_exponent", 1.5),
    ],
)
def test_config_rejects_bad_values(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        EASEConfig(**{field: value})  # type: ignore[arg-type]


def test_unfitted_model_says_so() -> None:
    with pytest.raises(NotFittedError):
        EASE().score_users([0])


def test_activity_weights_scale_rows_and_lambda(tiny: Ratings) -> None:
    config = EASEConfig(regularization=2.0, activity_exponent=0.5, dropout=0.25)
    model = EASE(config).fit(tiny)
    binary = _binary(tiny)
    row_weights = binary.sum(axis=1) ** -0.5
    weighted = binary * row_weights[:, None]
    gram = weighted.T @ weighted
    penalty = 2.0 * np.mean(row_weights**2) + (0.25 / 0.75) * np.diag(gram)
    inverse = np.linalg.inv(gram + np.diag(penalty))
    expected = np.eye(tiny.n_movies) - inverse / np.diag(inverse)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-6)  # type: ignore[arg-type]
    np.testing.assert_allclose(model.score_users([1])[0], binary[1] @ expected, atol=1e-5)


def test_fit_holds_about_one_dense_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ease_module, "_GRAM_BLOCK", 64)
    matrix = sp.random(3000, 1200, density=0.03, format="csr", random_state=0, dtype=np.float32)
    matrix.data[:] = 1.0
    tracemalloc.start()
    try:
        weights = ease_module.ease_weights(matrix, 10.0, np.float64)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert weights.flags.c_contiguous
    assert peak < 1.3 * 1200 * 1200 * 8
