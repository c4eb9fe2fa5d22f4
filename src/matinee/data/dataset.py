"""Dataset: one MovieLens release as loaded, ratings plus the tables around them."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from matinee.data.ratings import Ratings

__all__ = ["MOVIE_COLUMNS", "Dataset"]

MOVIE_COLUMNS = ("movie_id", "title", "year", "genres", "imdb_id", "tmdb_id")
"""Columns of :attr:`Dataset.movies`: int64 id, str title (year kept in it as released),
Int32 year parsed from the title (null when absent), list[str] genres, and nullable int64
IMDb / TMDB ids from links (null where a release has no links)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded release: ratings, the movies table, and optional tags and user demographics."""

    name: str
    """Release name as in the registry (for example ``ml-100k``)."""
    ratings: Ratings
    movies: pl.DataFrame
    """Every listed movie, rated or not; columns :data:`MOVIE_COLUMNS`."""
    tags: pl.DataFrame | None = None
    """``user_id, movie_id, tag, timestamp`` where the release has tags."""
    users: pl.DataFrame | None = None
    """Demographics (ml-100k, ml-1m): ``user_id, age, gender, occupation, zip_code``."""
    source_checksum: str = ""
    """Checksum of the source the dataset was parsed from (keys the columnar cache)."""

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {self.ratings!r}, listed_movies={self.movies.height:,})"
