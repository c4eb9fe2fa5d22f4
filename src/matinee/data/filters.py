"""Filters that drop ratings, users or movies, re-index, and report what they removed.

Each filter is a small frozen dataclass with ``apply(ratings) -> FilterResult``. The result holds
compacted :class:`~matinee.data.ratings.Ratings` (users and movies left without ratings leave the
id maps) and a :class:`FilterReport`. :func:`apply_filters` chains filters and, with
``until_stable=True``, repeats the chain until nothing more is removed: with
``MinUserRatings(k)`` and ``MinMovieRatings(k)`` that is the k-core, since removing a user lowers
the counts of the movies they rated and the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError

__all__ = [
    "FilterReport",
    "FilterResult",
    "MinMovieMean",
    "MinMovieRatings",
    "MinUserRatings",
    "RatingThreshold",
    "RatingsFilter",
    "TopUsers",
    "apply_filters",
    "filter_dataset",
    "top_user_indices",
    "with_filtered_ratings",
]

log = logging.getLogger(__name__)

MAX_ROUNDS = 1_000
"""Most passes :func:`apply_filters` makes when iterating to a fixed point."""


@dataclass(frozen=True)
class FilterReport:
    """What one filter (or a chain of them) removed."""

    name: str
    """The filter, in words (for example ``min 5 ratings per movie``)."""
    ratings_before: int
    ratings_removed: int
    users_removed: int
    """Users that had ratings before and have none after."""
    movies_removed: int
    """Movies that had ratings before and have none after."""
    rounds: int = 1
    """Passes over the chain (more than one when iterating to a fixed point)."""
    steps: tuple[FilterReport, ...] = ()
    """Per-filter reports of a chain, in the order they ran (summed over rounds)."""

    @property
    def ratings_after(self) -> int:
        """Ratings left."""
        return self.ratings_before - self.ratings_removed

    def __str__(self) -> str:
        head = (
            f"{self.name}: removed {self.ratings_removed:,} of {self.ratings_before:,} ratings, "
            f"{self.users_removed:,} users, {self.movies_removed:,} movies"
        )
        if self.rounds > 1:
            head += f" in {self.rounds} rounds"
        return "\n".join([head, *(f"  {step}" for step in self.steps)])


@dataclass(frozen=True)
class FilterResult:
    """Filtered, compacted ratings and the report of what went."""

    ratings: Ratings
    report: FilterReport


class RatingsFilter(Protocol):
    """Anything that filters ratings and says what it removed."""

    def apply(self, ratings: Ratings) -> FilterResult:
        """Filter ``ratings`` and return compacted ratings with a report."""
        ...


def _active(counts: npt.NDArray[np.int64]) -> int:
    return int(np.count_nonzero(counts))


def _keep_rows(ratings: Ratings, keep: npt.NDArray[np.bool_], name: str) -> FilterResult:
    """Keep the masked rows, compact the id maps, and report the difference."""
    kept = ratings.take(keep).compact()
    report = FilterReport(
        name=name,
        ratings_before=len(ratings),
        ratings_removed=len(ratings) - len(kept),
        users_removed=_active(ratings.user_counts()) - kept.n_users,
        movies_removed=_active(ratings.movie_counts()) - kept.n_movies,
    )
    log.debug("%s", report)
    return FilterResult(kept, report)


def _check_count(owner: object, name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{type(owner).__name__}.{name} must be an integer >= 1, got {value!r}")


def _check_number(owner: object, name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.number)
        or not np.isfinite(value)
    ):
        raise ConfigError(f"{type(owner).__name__}.{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class _CountFilter:
    """A filter with one whole-number setting ``n`` (at least 1)."""

    n: int

    def __post_init__(self) -> None:
        _check_count(self, "n", self.n)


@dataclass(frozen=True)
class _NumberFilter:
    """A filter with one finite-number setting ``x``."""

    x: float

    def __post_init__(self) -> None:
        _check_number(self, "x", self.x)


class MinMovieRatings(_CountFilter):
    """Keep movies with at least ``n`` ratings."""

    def apply(self, ratings: Ratings) -> FilterResult:
        """Drop the ratings of movies rated fewer than ``n`` times."""
        keep = (ratings.movie_counts() >= self.n)[ratings.movie_idx]
        return _keep_rows(ratings, keep, f"min {self.n} ratings per movie")


class MinUserRatings(_CountFilter):
    """Keep users with at least ``n`` ratings."""

    def apply(self, ratings: Ratings) -> FilterResult:
        """Drop the ratings of users with fewer than ``n`` ratings."""
        keep = (ratings.user_counts() >= self.n)[ratings.user_idx]
        return _keep_rows(ratings, keep, f"min {self.n} ratings per user")


class MinMovieMean(_NumberFilter):
    """Keep movies whose mean rating is at least ``x``."""

    def apply(self, ratings: Ratings) -> FilterResult:
        """Drop the ratings of movies whose mean rating is below ``x``."""
        counts = ratings.movie_counts()
        sums = np.bincount(ratings.movie_idx, weights=ratings.rating, minlength=ratings.n_movies)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        keep = (means >= self.x)[ratings.movie_idx]
        return _keep_rows(ratings, keep, f"min mean rating {self.x:g} per movie")


class TopUsers(_CountFilter):
    """Keep the ``n`` most active users (ties broken by lower user index, that is raw id)."""

    def apply(self, ratings: Ratings) -> FilterResult:
        """Keep only the ratings of the ``n`` users with the most ratings."""
        keep_users = np.zeros(ratings.n_users, dtype=bool)
        keep_users[top_user_indices(ratings, self.n)] = True
        return _keep_rows(ratings, keep_users[ratings.user_idx], f"top {self.n} users")


def top_user_indices(ratings: Ratings, n: int) -> npt.NDArray[np.intp]:
    """Indices of the ``n`` users with most ratings (fewer if fewer have ratings)."""
    counts = ratings.user_counts()
    order = np.argsort(-counts, kind="stable")
    return order[: min(n, _active(counts))]


class RatingThreshold(_NumberFilter):
    """Keep ratings of at least ``x``: turns explicit ratings into implicit "liked" events."""

    def apply(self, ratings: Ratings) -> FilterResult:
        """Drop ratings below ``x``."""
        return _keep_rows(ratings, ratings.rating >= self.x, f"ratings >= {self.x:g}")


def _combine(
    name: str, before: Ratings, after: Ratings, steps: list[FilterReport], rounds: int
) -> FilterReport:
    """Total report of a chain, with per-filter reports summed over rounds."""
    merged: dict[str, FilterReport] = {}
    for step in steps:
        seen = merged.get(step.name)
        merged[step.name] = (
            step
            if seen is None
            else replace(
                seen,
                ratings_removed=seen.ratings_removed + step.ratings_removed,
                users_removed=seen.users_removed + step.users_removed,
                movies_removed=seen.movies_removed + step.movies_removed,
            )
        )
    return FilterReport(
        name=name,
        ratings_before=len(before),
        ratings_removed=len(before) - len(after),
        users_removed=_active(before.user_counts()) - after.n_users,
        movies_removed=_active(before.movie_counts()) - after.n_movies,
        rounds=rounds,
        steps=tuple(merged.values()),
    )


def apply_filters(
    ratings: Ratings, filters: Sequence[RatingsFilter], *, until_stable: bool = False
) -> FilterResult:
    """Apply ``filters`` in order; with ``until_stable``, repeat the chain to a fixed point.

    Args:
        ratings: The ratings to filter.
        filters: Filters run left to right, each on the previous one's output.
        until_stable: Repeat the whole chain until a pass removes nothing (the k-core for
            min-count filters); the report says how many passes were made, the last one
            removing nothing.

    Returns:
        Compacted ratings and a report whose ``steps`` hold each filter's removals.
    """
    current = ratings.compact()
    steps: list[FilterReport] = []
    rounds = 0
    while True:
        rounds += 1
        before = len(current)
        for step in filters:
            result = step.apply(current)
            steps.append(result.report)
            current = result.ratings
        if not until_stable or len(current) == before or not filters:
            break
        if rounds >= MAX_ROUNDS:
            raise ConfigError(f"filters did not reach a fixed point in {MAX_ROUNDS} rounds")
    name = " then ".join(s.name for s in steps[: len(filters)]) or "no filter"
    report = _combine(name, ratings, current, steps, rounds)
    log.info("%s", report)
    return FilterResult(current, report)


def filter_dataset(
    dataset: Dataset, filters: Sequence[RatingsFilter], *, until_stable: bool = False
) -> Dataset:
    """Filter a dataset's ratings and keep its tables consistent with them.

    The movies table keeps the movies that still have ratings, tags keep rows whose user and
    movie both remain, and user demographics keep the remaining users. The report is logged; call
    :func:`apply_filters` on ``dataset.ratings`` to get it as a value.
    """
    result = apply_filters(dataset.ratings, filters, until_stable=until_stable)
    return with_filtered_ratings(dataset, result.ratings)


def with_filtered_ratings(dataset: Dataset, kept: Ratings) -> Dataset:
    """``dataset`` with ratings ``kept`` (a filtered subset) and its other tables cut to match.

    For callers that ran :func:`apply_filters` themselves to keep its report.
    """
    movie_ids = pl.Series(kept.movies.raw_ids).implode()
    user_ids = pl.Series(kept.users.raw_ids).implode()
    tags = dataset.tags
    if tags is not None:
        tags = tags.filter(pl.col("movie_id").is_in(movie_ids) & pl.col("user_id").is_in(user_ids))
    users = dataset.users
    if users is not None:
        users = users.filter(pl.col("user_id").is_in(user_ids))
    return replace(
        dataset,
        ratings=kept,
        movies=dataset.movies.filter(pl.col("movie_id").is_in(movie_ids)),
        tags=tags,
        users=users,
    )
