"""'because' reasons: item-item terms, factor-vector contributions, nothing for baselines."""

from __future__ import annotations

import numpy as np
import pytest

from matinee.models._ranker_common import known_movie_counts
from matinee.service import ModelBundle
from matinee.service.because import reason_weights


def test_item_item_reasons_are_the_terms_of_the_score(ease: ModelBundle) -> None:
    ratings = {71: 5, 95: 5, 588: 5, 1: 4}
    rows = ease.recommend_new_user(ratings, k=5)
    weights = ease.model.weights_  # type: ignore[attr-defined]
    rated = ease.catalog.indices(list(ratings))
    for row in rows:
        candidate = int(ease.catalog.indices([row.movie.movie_id])[0])
        terms = weights[rated, candidate]
        # every rating here is liked (weight 1); the list score is then popularity damped
        count = known_movie_counts(ease.model.user_items_)[candidate]  # type: ignore[attr-defined]
        damping = (count + 1.0) ** ease.model.config.rank_popularity_exponent
        assert float(np.sum(terms)) / damping == pytest.approx(row.score, abs=1e-5)
        top = sorted((t for t in terms if t > 0), reverse=True)[:3]
        assert [r.weight for r in row.because] == [float(t) for t in top]


def test_factor_reasons_follow_vectors_and_taste(mf: ModelBundle) -> None:
    rows = mf.recommend_new_user({"Star Wars": 5, "Fargo": 5, "Mighty Morphin": 1}, k=10)
    disliked = mf.find_movie("Mighty Morphin").movie_id
    for row in rows:
        assert len(row.because) <= 3
        assert disliked not in {reason.movie_id for reason in row.because}
        assert all(reason.weight > 0 for reason in row.because)
    movies = mf.catalog.indices([50, 100])
    candidates = mf.catalog.indices([181])
    weights = reason_weights(mf.model, movies, np.array([5.0, 5.0], np.float32), candidates)
    vectors = mf.model.movie_vectors()
    assert weights is not None and vectors is not None
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    deviation = 5.0 - mf.model.global_mean_  # equal ratings: deviation from the training mean
    expected = unit[candidates[0]] @ unit[movies].T * deviation
    assert np.allclose(weights[0], expected, atol=1e-6)


def test_baselines_have_nothing_to_say(baseline: ModelBundle) -> None:
    rows = baseline.recommend_new_user({1: 5, 50: 4}, k=5)
    assert len(rows) == 5 and all(row.because == () for row in rows)
    assert all(row.because == () for row in baseline.recommend_user(1, k=5))


def test_kept_norms_give_the_same_weights_to_the_bit(mf: ModelBundle, ease: ModelBundle) -> None:
    """A server keeps each model's vector norms; the reasons must not change for it."""
    from matinee.service.because import vector_norms

    norms = vector_norms(mf.model)
    assert norms is not None and norms.shape == (mf.model.n_movies,)
    rng = np.random.default_rng(0)
    for _ in range(20):
        movies = rng.choice(mf.model.n_movies, size=8, replace=False).astype(np.int64)
        ratings = (rng.integers(1, 11, size=5) / 2).astype(np.float32)
        rated, candidates = movies[:5], movies[5:]
        fresh = reason_weights(mf.model, rated, ratings, candidates)
        kept = reason_weights(mf.model, rated, ratings, candidates, norms)
        assert fresh is not None and kept is not None
        np.testing.assert_array_equal(fresh, kept)
    assert vector_norms(ease.model) is None  # item-item reasons use no vectors
