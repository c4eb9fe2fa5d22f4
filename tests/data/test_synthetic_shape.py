"""The synthetic generator's ml-25m shape: rating histogram, genre shares, movie popularity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data._synthetic_shape import RATING_LEVELS, RATING_SHARES, star_thresholds
from matinee.data.synthetic import _added_times, generate_ratings, write_synthetic_release


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of the ratings per rated movie."""
    ordered = np.sort(counts[counts > 0].astype(np.float64))
    rank = np.arange(1, ordered.size + 1)
    return float((2 * rank - ordered.size - 1) @ ordered / (ordered.size * ordered.sum()))


def test_rating_histogram_is_ml25m_within_half_a_point() -> None:
    ratings = generate_ratings(200_000, seed=4)
    shares = np.array([np.mean(ratings.rating == level) for level in RATING_LEVELS])
    np.testing.assert_allclose(shares, RATING_SHARES / RATING_SHARES.sum(), atol=0.005)


@given(st.floats(0.3, 1.0))
@settings(max_examples=30, deadline=None)
def test_half_and_whole_star_users_mix_to_the_histogram(half_share: float) -> None:
    half_cuts, whole_cuts = star_thresholds(half_share)
    half = np.diff(np.concatenate([[0.0], half_cuts, [1.0]]))
    whole = np.diff(np.concatenate([[0.0], whole_cuts, [1.0]]))
    assert np.all(half >= -1e-12)
    np.testing.assert_allclose(whole[::2], 0.0, atol=1e-12)
    mixed = half_share * half + (1 - half_share) * whole
    np.testing.assert_allclose(mixed, RATING_SHARES / RATING_SHARES.sum(), atol=1e-9)


def test_genre_shares_by_rating_follow_movielens(tmp_path: Path) -> None:
    write_synthetic_release(tmp_path, 100_000, seed=2)
    ratings = pl.read_csv(tmp_path / "ratings.csv")
    movies = pl.read_csv(tmp_path / "movies.csv")
    genres = movies.with_columns(pl.col("genres").str.split("|")).explode("genres")
    counts = ratings.join(genres, on="movieId")["genres"].value_counts()
    share = {row["genres"]: row["count"] / ratings.height for row in counts.to_dicts()}
    for big in ("Drama", "Comedy"):
        for small in ("Horror", "IMAX", "Western"):
            assert share[big] > 3 * share[small], (big, small, share)
    assert 0.3 < share["Drama"] < 0.55
    per_movie = genres["genres"].value_counts()
    movie_share = {row["genres"]: row["count"] / movies.height for row in per_movie.to_dicts()}
    assert movie_share["Drama"] > 0.3
    assert movie_share["IMAX"] < 0.15 * movie_share["Drama"]


def test_movie_popularity_has_a_long_tail_that_late_movies_fill() -> None:
    ratings = generate_ratings(1_000_000, seed=4)
    counts = ratings.movie_counts()
    ordered = np.sort(counts)[::-1]
    tenth = counts.size // 10
    assert gini(counts) > 0.66  # 0.53 before the catalogue grew over time; ml-25m: 0.942
    assert ordered[:tenth].sum() / len(ratings) > 0.55  # 0.39 before
    assert counts[:tenth].mean() > 10 * counts[-tenth:].mean()  # first-added vs last-added


def test_every_rating_comes_after_its_movie_joined() -> None:
    ratings = generate_ratings(200_000, seed=6)
    added = np.floor(_added_times(ratings.n_movies)).astype(np.int64)
    assert np.all(ratings.timestamp >= added[ratings.movie_idx])
    assert np.all(ratings.timestamp <= 1_574_327_703)
    late = ratings.movie_idx >= ratings.n_movies // 2
    assert np.quantile(ratings.timestamp[late], 0.05) > 1_420_000_000  # after 2014


@pytest.mark.slow
def test_ml25m_size_has_ml25m_concentration() -> None:
    ratings = generate_ratings(25_000_095, seed=0)
    counts = ratings.movie_counts()
    assert abs(gini(counts) - 0.942) < 0.02  # ml-25m, LensKit codex
    assert 0.0025 < counts.max() / len(ratings) < 0.005  # ml-latest-small's top movie: 0.33%
    assert 0.9 < np.mean(counts > 0) < 0.99  # ml-25m's movies.csv: 59,047 of 62,423 rated
