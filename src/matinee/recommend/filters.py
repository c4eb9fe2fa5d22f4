"""Filters on the movies a list may hold: genres, years, a candidate list, a minimum of ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError

__all__ = ["MovieFilter", "RatingCounts", "allowed_movies", "parse_year_range"]

RatingCounts = Ratings | npt.NDArray[np.integer]
"""Where ``min_ratings`` finds how often each movie was rated: the training ratings, or an array
of counts per model movie index."""


@dataclass(frozen=True, kw_only=True)
class MovieFilter:
    """Which movies may be recommended; an empty filter allows every movie."""

    genres: tuple[str, ...] = ()
    """Keep movies with at least one of these genres (case-insensitive); empty keeps all."""

    years: tuple[int | None, int | None] = (None, None)
    """Inclusive release-year range; None leaves that side open."""

    candidates: tuple[int, ...] | None = None
    """Raw movie ids to choose from; None allows every movie."""

    min_ratings: int = 0
    """Keep movies rated at least this many times in the training data."""

    def __post_init__(self) -> None:
        if self.candidates is not None:
            object.__setattr__(self, "candidates", tuple(int(m) for m in self.candidates))
        object.__setattr__(self, "genres", tuple(self.genres))
        if self.min_ratings < 0:
            raise ConfigError(f"min_ratings must be >= 0, got {self.min_ratings}")
        low, high = self.years
        if low is not None and high is not None and low > high:
            raise ConfigError(f"year range {low}-{high} is empty")

    @property
    def is_empty(self) -> bool:
        """Whether the filter allows every movie."""
        return (
            not self.genres
            and self.years == (None, None)
            and self.candidates is None
            and self.min_ratings == 0
        )


def parse_year_range(text: str) -> tuple[int | None, int | None]:
    """Read ``"1990-2000"``, ``"1990-"``, ``"-2000"`` or ``"1995"`` as an inclusive year range."""
    low_text, dash, high_text = text.strip().partition("-")
    try:
        low = int(low_text) if low_text.strip() else None
        high = int(high_text) if high_text.strip() else None
    except ValueError:
        raise ConfigError(f"cannot read {text!r} as a year range like 1990-2000") from None
    if not dash:
        high = low
    if low is None and high is None:
        raise ConfigError(f"cannot read {text!r} as a year range like 1990-2000")
    return low, high


def allowed_movies(
    movie_map: IdMap,
    movie_filter: MovieFilter | None,
    *,
    movies: pl.DataFrame | None = None,
    rating_counts: RatingCounts | None = None,
) -> npt.NDArray[np.bool_] | None:
    """A mask over the model's movie indices of the movies the filter keeps (None: all)."""
    if movie_filter is None or movie_filter.is_empty:
        return None
    keep = np.ones(len(movie_map), dtype=bool)
    if movie_filter.genres or movie_filter.years != (None, None):
        keep &= _table_mask(movie_map, movie_filter, movies)
    if movie_filter.candidates is not None:
        candidates = np.zeros(len(movie_map), dtype=bool)
        candidates[movie_map.indices(list(movie_filter.candidates))] = True
        keep &= candidates
    if movie_filter.min_ratings > 0:
        keep &= _counts(movie_map, rating_counts) >= movie_filter.min_ratings
    return keep


def _table_mask(
    movie_map: IdMap, movie_filter: MovieFilter, movies: pl.DataFrame | None
) -> npt.NDArray[np.bool_]:
    if movies is None:
        raise ConfigError("filtering by genre or year needs the movies table (titles, genres)")
    condition = pl.lit(True)
    if movie_filter.genres:
        _check_genres(movie_filter.genres, movies)
        wanted = [genre.casefold() for genre in movie_filter.genres]
        lowered = pl.col("genres").list.eval(pl.element().str.to_lowercase())
        condition &= lowered.list.eval(pl.element().is_in(wanted)).list.any()
    low, high = movie_filter.years
    if low is not None:
        condition &= pl.col("year") >= low
    if high is not None:
        condition &= pl.col("year") <= high
    kept_ids = movies.filter(condition.fill_null(False))["movie_id"].to_numpy()
    return np.isin(movie_map.raw_ids, kept_ids)


def _check_genres(genres: Sequence[str], movies: pl.DataFrame) -> None:
    """Refuse genres no movie has (a typo would otherwise give an empty list), listing the known."""
    known = movies["genres"].explode().drop_nulls().unique().sort().to_list()
    folded = {genre.casefold() for genre in known}
    unknown = [genre for genre in genres if genre.casefold() not in folded]
    if unknown:
        raise ConfigError(
            f"unknown genre(s) {', '.join(map(repr, unknown))}; known genres: {', '.join(known)}"
        )


def _counts(movie_map: IdMap, rating_counts: RatingCounts | None) -> npt.NDArray[np.int64]:
    if rating_counts is None:
        raise ConfigError("min_ratings needs rating counts: pass the training Ratings")
    if isinstance(rating_counts, Ratings):
        counts = np.zeros(len(movie_map), dtype=np.int64)
        raw = rating_counts.movies.raw_ids
        known = np.isin(raw, movie_map.raw_ids)
        counts[movie_map.indices(raw[known])] = rating_counts.movie_counts()[known]
        return counts
    array = np.asarray(rating_counts, dtype=np.int64)
    if array.shape != (len(movie_map),):
        raise DataError(f"rating counts have shape {array.shape}, expected ({len(movie_map)},)")
    return array
