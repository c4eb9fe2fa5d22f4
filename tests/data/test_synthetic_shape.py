"""The synthetic generator's ml-25m shape: rating histogram and genre shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data._synthetic_shape import RATING_LEVELS, RATING_SHARES, star_thresholds
from matinee.data.synthetic import generate_ratings, write_synthetic_release


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
