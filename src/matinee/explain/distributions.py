"""The data behind every explanation: a movie catalogue, rating counts, activity, training curves.

Every analysis in :mod:`matinee.explain` reads movie titles, genres and rating counts through one
*catalogue*: a polars frame with one row per model movie index, built by :func:`movie_catalog`
from the model's ``movies_`` id map, the movies table and (optionally) the ratings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError
from matinee.types import FloatArray, IndexArray

__all__ = [
    "CATALOG_COLUMNS",
    "NO_GENRE",
    "ActivityCrosstab",
    "activity_crosstab",
    "check_catalog",
    "check_rows",
    "check_vectors",
    "take_rows",
    "most_rated_movies",
    "movie_catalog",
    "rating_values",
    "ratings_per_movie",
    "ratings_per_user",
    "training_curves",
]

CATALOG_COLUMNS = ("movie_idx", "movie_id", "title", "genres", "n_ratings")
"""Columns of a catalogue: model index, raw id, title, list of genres, ratings count (null when
no ratings were given)."""

NO_GENRE = "(no genres listed)"
"""The placeholder MovieLens uses for a movie without genres; never counted as a genre."""


def movie_catalog(
    movies: IdMap, movies_table: pl.DataFrame | None = None, ratings: Ratings | None = None
) -> pl.DataFrame:
    """One row per movie index of a model: ``movie_idx, movie_id, title, genres, n_ratings``.

    Args:
        movies: The model's ``movies_`` id map (index -> raw movie id).
        movies_table: The dataset's movies (``movie_id, title, genres``); without it titles read
            ``movie <id>`` and genres are empty.
        ratings: Ratings to count per movie (matched by raw id, so any id map works); without
            them ``n_ratings`` is null.
    """
    if not isinstance(movies, IdMap):
        raise DataError(f"movie_catalog takes the model's IdMap, got {type(movies).__name__}")
    raw = movies.raw_ids
    frame = pl.DataFrame(
        {"movie_idx": np.arange(raw.size, dtype=np.int64), "movie_id": raw.astype(np.int64)}
    )
    if movies_table is not None:
        missing = {"movie_id", "title", "genres"} - set(movies_table.columns)
        if missing:
            raise DataError(f"the movies table lacks column(s) {sorted(missing)}")
        info = movies_table.select(
            pl.col("movie_id").cast(pl.Int64),
            pl.col("title").cast(pl.String),
            pl.col("genres").cast(pl.List(pl.String)),
        ).unique("movie_id", keep="first")
        frame = frame.join(info, on="movie_id", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("title"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("genres"),
        )
    frame = frame.with_columns(
        pl.col("title").fill_null(pl.format("movie {}", pl.col("movie_id"))),
        pl.col("genres")
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
        .list.eval(pl.element().filter(pl.element() != NO_GENRE)),
        pl.Series("n_ratings", _counts_by_raw_id(raw, ratings), dtype=pl.Int64),
    )
    return frame.select(CATALOG_COLUMNS)


def _counts_by_raw_id(raw: npt.NDArray[np.int64], ratings: Ratings | None) -> list[int | None]:
    if ratings is None:
        return [None] * raw.size
    counts = np.zeros(raw.size, dtype=np.int64)
    rated_raw = ratings.movies.raw_ids
    pos = np.searchsorted(raw, rated_raw)
    pos_clipped = np.minimum(pos, max(raw.size - 1, 0))
    known = (pos < raw.size) & (raw[pos_clipped] == rated_raw) if raw.size else pos < 0
    np.add.at(counts, pos[known], ratings.movie_counts()[known])
    return [int(c) for c in counts]


def check_catalog(catalog: pl.DataFrame, n_rows: int, what: str) -> None:
    """Raise :class:`DataError` unless ``catalog`` is a catalogue with ``n_rows`` movies."""
    if not isinstance(catalog, pl.DataFrame) or not set(CATALOG_COLUMNS) <= set(catalog.columns):
        raise DataError(f"expected a catalogue from movie_catalog() with columns {CATALOG_COLUMNS}")
    if catalog.height != n_rows:
        raise DataError(f"{what} has {n_rows} movies but the catalogue has {catalog.height}")


def check_vectors(vectors: npt.ArrayLike, what: str = "movie vectors") -> FloatArray:
    """``vectors`` as a finite float64 matrix with at least one row and column."""
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(f"{what} must be a non-empty 2-D matrix, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{what} hold NaN or infinite values")
    return array


def check_rows(n_rows: int, rows: npt.ArrayLike | None) -> IndexArray:
    """Sorted unique movie indices from ``rows`` (all ``n_rows`` if None), checked in range."""
    if rows is None:
        return np.arange(n_rows, dtype=np.int32)
    picked = np.asarray(rows).ravel()
    if picked.size == 0:
        raise DataError("the list of movie indices is empty")
    if not np.issubdtype(picked.dtype, np.integer):
        raise DataError(f"movie indices must be integers, got dtype {picked.dtype}")
    if picked.min() < 0 or picked.max() >= n_rows:
        raise DataError(
            f"movie indices must lie in 0..{n_rows - 1}, got {picked.min()}..{picked.max()}"
        )
    return np.unique(picked).astype(np.int32)


def take_rows(catalog: pl.DataFrame, rows: npt.ArrayLike) -> pl.DataFrame:
    """The catalogue rows at positions ``rows``, in that order."""
    picked: pl.DataFrame = catalog[np.asarray(rows, dtype=np.int64).ravel().tolist()]
    return picked


def most_rated_movies(catalog: pl.DataFrame, n: int | None = None) -> IndexArray:
    """Movie indices sorted by ratings count (most first, ties by index); the first ``n`` if given.

    Without counts (``n_ratings`` null) every movie is kept, in index order.
    """
    if n is not None and n < 1:
        raise ConfigError(f"the number of most-rated movies must be >= 1, got {n}")
    counts = catalog["n_ratings"]
    if counts.null_count() == catalog.height:
        order = np.arange(catalog.height)
    else:
        order = np.argsort(-counts.fill_null(0).to_numpy(), kind="stable")
    return order[:n].astype(np.int32)


def ratings_per_movie(ratings: Ratings) -> pl.DataFrame:
    """``movie_id, n_ratings`` for every movie with at least one rating, most rated first."""
    return _count_frame(ratings.movies.raw_ids, ratings.movie_counts(), "movie_id")


def ratings_per_user(ratings: Ratings) -> pl.DataFrame:
    """``user_id, n_ratings`` for every user with at least one rating, most active first."""
    return _count_frame(ratings.users.raw_ids, ratings.user_counts(), "user_id")


def _count_frame(
    raw: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], key: str
) -> pl.DataFrame:
    frame = pl.DataFrame({key: raw, "n_ratings": counts.astype(np.int64)})
    return frame.filter(pl.col("n_ratings") > 0).sort(["n_ratings", key], descending=[True, False])


def rating_values(ratings: Ratings) -> pl.DataFrame:
    """``rating, count``: how often each rating value occurs, in increasing rating order."""
    values, counts = np.unique(ratings.rating, return_counts=True)
    return pl.DataFrame({"rating": values.astype(np.float64), "count": counts.astype(np.int64)})


@dataclass(frozen=True)
class ActivityCrosstab:
    """Ratings of the most active users (rows) for the most rated movies (columns)."""

    values: FloatArray
    """``n_users x n_movies`` ratings; NaN where the user did not rate the movie."""
    user_ids: tuple[int, ...]
    movie_ids: tuple[int, ...]
    titles: tuple[str, ...]
    """Titles of the columns (``movie <id>`` when no movies table was given)."""


def activity_crosstab(
    ratings: Ratings,
    *,
    n_users: int = 20,
    n_movies: int = 20,
    titles: Mapping[int, str] | None = None,
) -> ActivityCrosstab:
    """The crosstab of the ``n_users`` most active users x the ``n_movies`` most rated movies."""
    if n_users < 1 or n_movies < 1:
        raise ConfigError(f"crosstab sizes must be >= 1, got {n_users} x {n_movies}")
    if len(ratings) == 0:
        raise DataError("cannot make a crosstab of empty ratings")
    users = _top_indices(ratings.user_counts(), n_users)
    movies = _top_indices(ratings.movie_counts(), n_movies)
    user_pos = np.full(ratings.n_users, -1, dtype=np.int64)
    user_pos[users] = np.arange(users.size)
    movie_pos = np.full(ratings.n_movies, -1, dtype=np.int64)
    movie_pos[movies] = np.arange(movies.size)
    rows, cols = user_pos[ratings.user_idx], movie_pos[ratings.movie_idx]
    keep = (rows >= 0) & (cols >= 0)
    values = np.full((users.size, movies.size), np.nan)
    values[rows[keep], cols[keep]] = ratings.rating[keep]
    movie_ids = tuple(int(m) for m in ratings.movies.raw_ids[movies])
    names = titles or {}
    return ActivityCrosstab(
        values=values,
        user_ids=tuple(int(u) for u in ratings.users.raw_ids[users]),
        movie_ids=movie_ids,
        titles=tuple(names.get(m, f"movie {m}") for m in movie_ids),
    )


def _top_indices(counts: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    order = np.argsort(-counts, kind="stable")[:n]
    return order[counts[order] > 0]


def training_curves(history: Sequence[Mapping[str, float]]) -> pl.DataFrame:
    """``epoch, loss, val_loss, seconds`` per epoch of a model's ``history_`` (null if absent)."""
    if not history:
        raise DataError("the model has no training history (it is not trained epoch by epoch)")
    columns = ("epoch", "loss", "val_loss", "seconds")
    rows = {name: [_number(record.get(name)) for record in history] for name in columns}
    frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.Float64))
    return frame.with_columns(pl.col("epoch").cast(pl.Int64))


def _number(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float):
        raise DataError(f"history values must be numbers, got {value!r}")
    return float(value)
