"""Synthetic generator: exact sizes, MovieLens-like shape, seeding, and the ml-25m CSV layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.ratings import Ratings
from matinee.data.synthetic import (
    GENRES,
    default_sizes,
    generate_ratings,
    write_synthetic_release,
)
from matinee.errors import ConfigError


@pytest.fixture(scope="module")
def sample() -> Ratings:
    return generate_ratings(200_000, seed=3)


def pair_keys(ratings: Ratings) -> np.ndarray:
    return ratings.user_idx.astype(np.int64) * ratings.n_movies + ratings.movie_idx


def test_sizes_follow_ml25m_ratios(sample: Ratings) -> None:
    assert len(sample) == 200_000
    assert (sample.n_users, sample.n_movies) == default_sizes(200_000)
    assert default_sizes(25_000_095)[0] == 162_541
    assert default_sizes(25_000_095)[1] == 59_047


def test_rows_are_distinct_and_sorted_by_user_then_movie(sample: Ratings) -> None:
    keys = pair_keys(sample)
    assert np.all(np.diff(keys) > 0)
    assert np.all(sample.user_counts() >= 20)


def test_ratings_are_half_stars_with_a_movielens_mean(sample: Ratings) -> None:
    doubled = sample.rating * 2
    np.testing.assert_array_equal(doubled, np.round(doubled))
    assert sample.rating.min() >= 0.5
    assert sample.rating.max() <= 5.0
    assert 3.3 < sample.mean() < 3.7
    assert 0.85 < float(sample.rating.std()) < 1.25
    half = (sample.rating % 1) != 0
    assert 0.1 < half.mean() < 0.4


def test_some_users_rate_in_whole_stars_only(sample: Ratings) -> None:
    half_per_user = np.bincount(
        sample.user_idx, weights=(sample.rating % 1) != 0, minlength=sample.n_users
    )
    heavy = sample.user_counts() >= 50
    assert np.mean(half_per_user[heavy] == 0) > 0.3


def test_popularity_and_activity_are_heavy_tailed(sample: Ratings) -> None:
    movies = np.sort(sample.movie_counts())[::-1]
    assert movies[: len(movies) // 10].sum() / len(sample) > 0.25
    assert movies[: len(movies) // 2].sum() / len(sample) > 0.7
    users = sample.user_counts()
    assert users.max() > 5 * np.median(users)
    assert users.mean() > 1.5 * np.median(users)


def test_timestamps_span_years_and_windows_are_per_user(sample: Ratings) -> None:
    years = sample.timestamp.max() - sample.timestamp.min()
    assert years > 20 * 365 * 86_400
    first = np.full(sample.n_users, np.iinfo(np.int64).max)
    last = np.zeros(sample.n_users, dtype=np.int64)
    np.minimum.at(first, sample.user_idx, sample.timestamp)
    np.maximum.at(last, sample.user_idx, sample.timestamp)
    assert np.median(last - first) < 365 * 86_400


def test_popular_movies_are_rated_higher(sample: Ratings) -> None:
    counts = sample.movie_counts()
    sums = np.bincount(sample.movie_idx, weights=sample.rating, minlength=sample.n_movies)
    rated = counts >= 20
    means = sums[rated] / counts[rated]
    assert np.corrcoef(np.log(counts[rated]), means)[0, 1] > 0.2


def test_same_seed_same_ratings_other_seed_other_ratings() -> None:
    first = generate_ratings(5_000, seed=1)
    assert first.fingerprint() == generate_ratings(5_000, seed=1).fingerprint()
    assert first.fingerprint() != generate_ratings(5_000, seed=2).fingerprint()


@given(
    st.integers(1, 3_000),
    st.one_of(st.none(), st.integers(1, 40)),
    st.one_of(st.none(), st.integers(1, 400)),
    st.integers(0, 2**32),
)
@settings(max_examples=40, deadline=None)
def test_any_feasible_size_gives_exactly_that_many_distinct_ratings(
    n_ratings: int, n_users: int | None, n_movies: int | None, seed: int
) -> None:
    try:
        ratings = generate_ratings(n_ratings, n_users=n_users, n_movies=n_movies, seed=seed)
    except ConfigError as error:
        assert re.search(r"n_users=|do not fit", str(error))
        users, movies = default_sizes(n_ratings)
        users, movies = n_users or users, n_movies or movies
        cap = movies if movies < 40 else movies // 2
        assert users > n_ratings or n_ratings > users * cap
        return
    assert len(ratings) == n_ratings
    assert np.unique(pair_keys(ratings)).size == n_ratings
    assert np.all(ratings.user_counts() >= 1)
    if n_users is not None:
        assert ratings.n_users == n_users
    if n_movies is not None:
        assert ratings.n_movies == n_movies


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_ratings": 0}, "n_ratings must be"),
        ({"n_ratings": True}, "n_ratings must be"),
        ({"n_ratings": 10**10}, "at most"),
        ({"n_ratings": 100, "n_users": 101}, "n_users=101"),
        ({"n_ratings": 100, "n_users": 2, "n_movies": 10}, "do not fit"),
        ({"n_ratings": 100, "n_movies": 0}, "n_movies must be"),
        ({"n_ratings": 100, "n_factors": 0}, "n_factors must be"),
    ],
)
def test_bad_sizes_raise_config_error(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate_ratings(**kwargs)


def test_release_is_written_in_the_ml25m_layout(tmp_path: Path) -> None:
    target = tmp_path / "ml-25m"
    assert write_synthetic_release(target, 3_000, seed=5) == target
    lines = (target / "ratings.csv").read_text().splitlines()
    assert lines[0] == "userId,movieId,rating,timestamp"
    assert len(lines) == 3_001
    assert all(re.fullmatch(r"\d+,\d+,[0-5]\.[05],\d{9,10}", line) for line in lines[1:])
    written = pl.read_csv(target / "ratings.csv")
    expected = generate_ratings(3_000, seed=5).to_polars()
    assert written["rating"].to_list() == expected["rating"].to_list()
    assert written["userId"].to_list() == expected["user_id"].to_list()
    assert written["movieId"].to_list() == expected["movie_id"].to_list()
    movies = pl.read_csv(target / "movies.csv")
    assert movies.columns == ["movieId", "title", "genres"]
    assert set(written["movieId"].to_list()) <= set(movies["movieId"].to_list())
    assert all(re.fullmatch(r"Synthetic Movie \d+ \(\d{4}\)", t) for t in movies["title"])
    assert all(set(g.split("|")) <= set(GENRES) for g in movies["genres"])
    assert sorted(p.name for p in target.iterdir()) == ["movies.csv", "ratings.csv"]


def test_release_overwrites_an_older_one(tmp_path: Path) -> None:
    write_synthetic_release(tmp_path, 2_000, seed=1)
    write_synthetic_release(tmp_path, 1_000, seed=2)
    assert len((tmp_path / "ratings.csv").read_text().splitlines()) == 1_001
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movies.csv", "ratings.csv"]
