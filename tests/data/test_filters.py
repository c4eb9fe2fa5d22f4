"""Filters: hand-worked results on the tiny set, properties against a plain reference, k-core."""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.dataset import Dataset
from matinee.data.filters import (
    FilterReport,
    MinMovieMean,
    MinMovieRatings,
    MinUserRatings,
    RatingThreshold,
    TopUsers,
    apply_filters,
    filter_dataset,
)
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError

Row = tuple[int, int, float]


@st.composite
def ratings_data(draw: st.DrawFn) -> Ratings:
    pairs = draw(
        st.lists(
            st.tuples(st.integers(1, 10), st.integers(1, 12)), min_size=1, max_size=70, unique=True
        )
    )
    values = draw(st.lists(st.integers(1, 5), min_size=len(pairs), max_size=len(pairs)))
    users, movies = zip(*pairs, strict=True)
    return Ratings.from_raw(users, movies, values, rating_scale=(1.0, 5.0))


def raw_rows(ratings: Ratings) -> set[Row]:
    users = ratings.users.raw_ids[ratings.user_idx].tolist()
    movies = ratings.movies.raw_ids[ratings.movie_idx].tolist()
    return set(zip(users, movies, ratings.rating.tolist(), strict=True))


def reference_k_core(rows: set[Row], k_user: int, k_movie: int) -> set[Row]:
    """The k-core by repeated plain-Python passes."""
    while True:
        users = Counter(u for u, _, _ in rows)
        movies = Counter(m for _, m, _ in rows)
        kept = {r for r in rows if users[r[0]] >= k_user and movies[r[1]] >= k_movie}
        if kept == rows:
            return kept
        rows = kept


def assert_compact(ratings: Ratings) -> None:
    assert np.all(ratings.user_counts() > 0)
    assert np.all(ratings.movie_counts() > 0)


def test_min_user_ratings_on_tiny(tiny: Ratings) -> None:
    result = MinUserRatings(3).apply(tiny)
    assert result.ratings.users.raw_ids.tolist() == [1, 3]
    assert len(result.ratings) == 6
    report = result.report
    assert (report.ratings_removed, report.users_removed, report.movies_removed) == (6, 3, 0)
    assert str(report) == ("min 3 ratings per user: removed 6 of 12 ratings, 3 users, 0 movies")


def test_min_movie_mean_on_tiny(tiny: Ratings) -> None:
    result = MinMovieMean(3.5).apply(tiny)
    assert result.ratings.movies.raw_ids.tolist() == [10, 30]
    assert (result.report.users_removed, result.report.movies_removed) == (1, 2)
    assert result.ratings.users.raw_ids.tolist() == [1, 2, 3, 4]


def test_top_users_breaks_ties_by_lower_id(tiny: Ratings) -> None:
    assert TopUsers(2).apply(tiny).ratings.users.raw_ids.tolist() == [1, 3]
    assert TopUsers(3).apply(tiny).ratings.users.raw_ids.tolist() == [1, 2, 3]
    assert len(TopUsers(99).apply(tiny).ratings) == 12


def test_rating_threshold_on_tiny(tiny: Ratings) -> None:
    result = RatingThreshold(4).apply(tiny)
    assert result.ratings.rating.min() >= 4
    assert len(result.ratings) == 6
    assert result.ratings.movies.raw_ids.tolist() == [10, 30]
    assert (result.report.users_removed, result.report.movies_removed) == (1, 2)


def test_min_movie_ratings_can_remove_everything(tiny: Ratings) -> None:
    result = MinMovieRatings(4).apply(tiny)
    assert len(result.ratings) == 0
    assert result.ratings.n_users == 0
    assert result.report.users_removed == 5


def test_chain_reports_each_step_and_the_total(tiny: Ratings) -> None:
    result = apply_filters(tiny, [RatingThreshold(4), MinUserRatings(2)])
    report = result.report
    assert [s.name for s in report.steps] == ["ratings >= 4", "min 2 ratings per user"]
    assert report.ratings_after == len(result.ratings) == 4
    assert sum(s.ratings_removed for s in report.steps) == report.ratings_removed
    assert report.users_removed == 3
    text = str(report)
    assert text.startswith("ratings >= 4 then min 2 ratings per user: removed 8 of 12 ratings")
    assert "\n  ratings >= 4: removed 6 of 12" in text


@given(ratings_data(), st.integers(1, 4), st.integers(1, 4))
@settings(deadline=None)
def test_until_stable_gives_the_k_core(ratings: Ratings, k_user: int, k_movie: int) -> None:
    result = apply_filters(
        ratings, [MinUserRatings(k_user), MinMovieRatings(k_movie)], until_stable=True
    )
    assert raw_rows(result.ratings) == reference_k_core(raw_rows(ratings), k_user, k_movie)
    assert_compact(result.ratings)
    assert result.report.ratings_after == len(result.ratings)
    assert result.report.rounds >= 1
    again = apply_filters(
        result.ratings, [MinUserRatings(k_user), MinMovieRatings(k_movie)], until_stable=True
    )
    assert again.report.rounds == 1
    assert again.report.ratings_removed == 0


@given(ratings_data(), st.integers(1, 5), st.sampled_from([1.0, 2.5, 3.0, 4.5]))
@settings(deadline=None)
def test_each_filter_matches_a_plain_reference(ratings: Ratings, n: int, x: float) -> None:
    rows = raw_rows(ratings)
    users = Counter(u for u, _, _ in rows)
    movies = Counter(m for _, m, _ in rows)
    sums: Counter[int] = Counter()
    for _, m, r in rows:
        sums[m] += r
    ranked = sorted(users, key=lambda u: (-users[u], u))[:n]
    expected = {
        MinUserRatings(n): {r for r in rows if users[r[0]] >= n},
        MinMovieRatings(n): {r for r in rows if movies[r[1]] >= n},
        MinMovieMean(x): {r for r in rows if sums[r[1]] / movies[r[1]] >= x - 1e-9},
        TopUsers(n): {r for r in rows if r[0] in ranked},
        RatingThreshold(x): {r for r in rows if r[2] >= x},
    }
    for step, kept in expected.items():
        result = step.apply(ratings)
        assert raw_rows(result.ratings) == kept, step
        assert_compact(result.ratings)
        assert result.report.ratings_removed == len(rows) - len(kept)
        assert result.report.users_removed == len(users) - result.ratings.n_users


@pytest.mark.parametrize(
    "make",
    [
        lambda: MinUserRatings(0),
        lambda: MinMovieRatings(-3),
        lambda: TopUsers(True),
        lambda: MinUserRatings(2.5),
        lambda: MinMovieMean(float("nan")),
        lambda: RatingThreshold("4"),
    ],
    ids=["zero", "negative", "bool", "float-count", "nan", "string"],
)
def test_bad_parameters_raise_config_error(make: object) -> None:
    assert callable(make)
    with pytest.raises(ConfigError, match="must be"):
        make()


def test_filter_dataset_keeps_tables_consistent(tiny: Ratings) -> None:
    movies = pl.DataFrame({"movie_id": [10, 20, 30, 40, 50], "title": ["a", "b", "c", "d", "e"]})
    tags = pl.DataFrame(
        {"user_id": [1, 2, 5, 3], "movie_id": [10, 10, 20, 30], "tag": ["w", "x", "y", "z"]}
    )
    users = pl.DataFrame({"user_id": [1, 2, 3, 4, 5], "age": [20, 30, 40, 50, 60]})
    dataset = Dataset(name="tiny", ratings=tiny, movies=movies, tags=tags, users=users)
    filtered = filter_dataset(dataset, [RatingThreshold(4), MinUserRatings(2)])
    assert filtered.ratings.users.raw_ids.tolist() == [1, 4]
    assert filtered.movies["movie_id"].to_list() == [10, 30]
    assert filtered.tags is not None
    assert filtered.tags["tag"].to_list() == ["w"]
    assert filtered.users is not None
    assert filtered.users["user_id"].to_list() == [1, 4]
    assert dataset.movies.height == 5


def test_report_counts_add_up() -> None:
    report = FilterReport(
        "x", ratings_before=10, ratings_removed=4, users_removed=1, movies_removed=0
    )
    assert report.ratings_after == 6
