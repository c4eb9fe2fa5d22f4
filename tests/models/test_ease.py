from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import matinee.models.neighbours.ease as ease_module
from matinee.data.filters import MinMovieRatings, apply_filters
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.splits import per_user_holdout
from matinee.data.synthetic import generate_ratings
from matinee.errors import ConfigError, NotFittedError
from matinee.evaluation.ranking_metrics import ndcg_at_k, relevance_matrix, top_k
from matinee.models._ranker_common import session_rows
from matinee.models.neighbours.ease import EASE, EASEConfig, movies_that_fit
from matinee.settings import Settings


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
    model = EASE(EASEConfig(reg=regularization, precision="float64")).fit(tiny)
    expected = _direct_weights(_binary(tiny), regularization)
    assert model.weights_ is not None
    np.testing.assert_allclose(model.weights_, expected, atol=1e-10)
    scores = model.score_users(np.arange(tiny.n_users))
    np.testing.assert_allclose(scores, _binary(tiny) @ expected, atol=1e-6)


def test_threshold_keeps_only_liked_movies(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=1.0, positive_threshold=4.0, precision="float64")).fit(tiny)
    expected = _direct_weights(_binary(tiny, 4.0), 1.0)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-10)  # type: ignore[arg-type]


def test_float32_is_close_to_float64(tiny: Ratings) -> None:
    wide = EASE(EASEConfig(reg=2.0, precision="float64")).fit(tiny)
    narrow = EASE(EASEConfig(reg=2.0, precision="float32")).fit(tiny)
    assert narrow.weights_ is not None and narrow.weights_.dtype == np.float32
    np.testing.assert_allclose(narrow.weights_, wide.weights_, atol=1e-5)  # type: ignore[arg-type]


def test_new_user_with_a_known_users_movies_scores_like_that_user(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=2.0)).fit(tiny)
    rows = tiny.user_idx == 0
    folded = model.score_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    np.testing.assert_allclose(folded, model.score_users([0])[0], atol=1e-6)


def test_predict_matches_score_users_for_pairs(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=2.0)).fit(tiny)
    users = np.array([0, 1, 2, 4], dtype=np.int32)
    movies = np.array([3, 0, 1, 2], dtype=np.int32)
    full = model.score_users(np.arange(tiny.n_users))
    low, high = tiny.rating_scale
    np.testing.assert_allclose(
        model.predict(users, movies), np.clip(full[users, movies], low, high), atol=1e-6
    )


def test_refuses_more_movies_than_the_limit_and_names_the_filter() -> None:
    ratings = generate_ratings(3_000, n_users=60, n_movies=300, seed=2)
    with pytest.raises(ConfigError, match=r"movies needs .* GiB.*max_movies=100") as refused:
        EASE(EASEConfig(max_movies=100)).fit(ratings)
    found = re.search(r"--min-movie-ratings (\d+)", str(refused.value))
    assert found is not None
    kept = apply_filters(ratings, [MinMovieRatings(int(found.group(1)))]).ratings
    assert 0 < kept.n_movies <= 100
    assert f"({kept.n_movies:,} movies" in str(refused.value)
    assert EASE(EASEConfig(max_movies=100)).fit(kept).is_fitted


def test_movies_that_fit_follows_the_square_law() -> None:
    assert movies_that_fit(8 * 1000**2, "float64") == 1000
    assert movies_that_fit(4 * 1000**2, "float32") == 1000
    assert movies_that_fit(24 * 1024**3, "float64") > 50_000


def test_parameters_round_trip(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=2.0)).fit(tiny)
    again = EASE.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0, 3]), model.score_users([0, 3]))
    np.testing.assert_array_equal(
        again.score_new_user([1, 2], [5.0, 1.0]), model.score_new_user([1, 2], [5.0, 1.0])
    )


def test_similarities_average_row_and_column(tiny: Ratings) -> None:
    model = EASE(EASEConfig(reg=2.0)).fit(tiny)
    weights = model.weights_
    assert weights is not None
    np.testing.assert_allclose(model.movie_similarities(1), (weights[1] + weights[:, 1]) / 2)


@pytest.mark.parametrize(
    "field, value",
    [
        ("reg", 0.0),
        ("reg", -1.0),
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
    config = EASEConfig(reg=2.0, activity_exponent=0.5, dropout=0.25)
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


# ---- session rows ----------------------------------------------------------------------------


def _sessions_example() -> Ratings:
    """User 1 rates movies 10, 20, 30, 40 in that time order (not in file order); user 2 rates
    40 then 10, and dislikes 20 (rating 1)."""
    users = [1, 1, 1, 1, 2, 2, 2]
    movies = [30, 10, 40, 20, 10, 40, 20]
    ratings = [5, 4, 5, 4, 4, 5, 1]
    times = [300, 100, 400, 200, 60, 50, 55]
    return Ratings.from_raw(users, movies, ratings, times, rating_scale=(1.0, 5.0))


def test_session_rows_hold_each_ratings_neighbours_in_time() -> None:
    ratings = _sessions_example()
    rows = session_rows(ratings, 4.0, window=1).toarray()
    movie = {raw: ratings.movies.index(raw) for raw in (10, 20, 30, 40)}

    def basket(*raw: int) -> np.ndarray:
        row = np.zeros(ratings.n_movies)
        row[[movie[m] for m in raw]] = 1.0
        return row

    # User 1 in time order 10, 20, 30, 40; user 2 (liked only) 40, 10: never mixed across users.
    expected = [
        basket(10, 20),
        basket(10, 20, 30),
        basket(20, 30, 40),
        basket(30, 40),
        basket(40, 10),
        basket(40, 10),
    ]
    np.testing.assert_array_equal(rows, np.vstack(expected))
    alone = session_rows(ratings, None, window=0)
    assert alone.shape == (7, 4) and np.all(alone.sum(axis=1) == 1)


def test_session_rows_enter_the_gram_matrix_with_their_weight() -> None:
    ratings = _sessions_example()
    config = EASEConfig(reg=3.0, session_window=1, session_weight=0.3)
    model = EASE(config).fit(ratings)
    binary = _binary(ratings)
    rows = session_rows(ratings, None, window=1).toarray()
    inverse = np.linalg.inv(binary.T @ binary + 0.3 * rows.T @ rows + 3.0 * np.eye(4))
    expected = np.eye(4) - inverse / np.diag(inverse)
    np.fill_diagonal(expected, 0.0)
    # sqrt(0.3) scales the float32 session rows, so agreement is to float32 rounding.
    np.testing.assert_allclose(model.weights_, expected, atol=1e-6)  # type: ignore[arg-type]
    again = EASE.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0, 1]), model.score_users([0, 1]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("session_window", -1),
        ("session_weight", 0.0),
        ("low_pass_factors", -1),
        ("low_pass_weight", 0.0),
    ],
)
def test_session_and_low_pass_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        EASEConfig(**{field: value})  # type: ignore[arg-type]


def _ndcg_at_10(model: EASE, train: Ratings, test: Ratings) -> float:
    users = np.unique(test.user_idx)
    recommended = top_k(model.score_users(users), 10, train.user_movie_matrix()[users])
    row = np.full(train.n_users, -1)
    row[users] = np.arange(users.size)
    relevant = relevance_matrix(row[test.user_idx], test.movie_idx, users.size, train.n_movies)
    return ndcg_at_k(recommended, relevant)


def _ml_100k_split(settings: Settings) -> tuple[Ratings, Ratings]:
    """ml-100k cut 75/25 per user (seed 0): the training and test parts."""
    split = per_user_holdout(load_dataset("ml-100k", settings=settings).ratings, fraction=0.25)
    return split.train, split.test


def test_sessions_lift_ranking_on_ml_100k_and_need_real_times(settings: Settings) -> None:
    train, test = _ml_100k_split(settings)
    plain = _ndcg_at_10(EASE(EASEConfig(reg=400.0)).fit(train), train, test)
    config = EASEConfig(reg=400.0, session_window=2, session_weight=0.5)
    with_sessions = _ndcg_at_10(EASE(config).fit(train), train, test)
    # Same data with each user's rating times shuffled: the session rows lose their meaning.
    shuffled_times = np.random.default_rng(0).permutation(train.timestamp)
    shuffled = Ratings(
        train.user_idx,
        train.movie_idx,
        train.rating,
        shuffled_times,
        train.users,
        train.movies,
        train.rating_scale,
    )
    control = _ndcg_at_10(EASE(config).fit(shuffled), train, test)
    assert with_sessions > plain + 0.005, (plain, with_sessions)
    assert with_sessions > control + 0.005, (control, with_sessions)


def test_low_pass_filter_lifts_ranking_on_ml_100k(settings: Settings) -> None:
    train, test = _ml_100k_split(settings)
    plain = _ndcg_at_10(EASE(EASEConfig(reg=250.0)).fit(train), train, test)
    config = EASEConfig(reg=250.0, low_pass_factors=32, low_pass_weight=0.4)
    filtered = _ndcg_at_10(EASE(config).fit(train), train, test)
    assert filtered > plain + 0.005, (plain, filtered)
