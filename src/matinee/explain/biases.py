"""Movie bias rankings: which movies people rate above or below what their generosity predicts.

A biased model writes each rating as ``global mean + user bias + movie bias + interaction``. The
movie bias is what is left of a movie's appeal once reviewer generosity is removed, so ranking it
gives "best" and "worst" movies that a plain mean rating would blur with who happened to rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.errors import ConfigError, DataError
from matinee.explain.distributions import check_catalog, most_rated_movies, take_rows

__all__ = ["BIAS_COLUMNS", "BiasRanking", "bias_ranking"]

BIAS_COLUMNS = ("rank", "movie_idx", "movie_id", "title", "genres", "n_ratings", "bias")
"""Columns of both frames of a :class:`BiasRanking`."""


@dataclass(frozen=True)
class BiasRanking:
    """The movies with the highest and the lowest bias, each best-first from its own end."""

    top: pl.DataFrame
    """Highest biases, largest first; columns :data:`BIAS_COLUMNS`."""
    bottom: pl.DataFrame
    """Lowest biases, smallest first; columns :data:`BIAS_COLUMNS`."""
    candidates: int
    """How many movies passed the filters and were ranked."""


def bias_ranking(
    biases: npt.ArrayLike,
    catalog: pl.DataFrame,
    *,
    n: int = 10,
    min_ratings: int = 0,
    most_rated: int | None = None,
) -> BiasRanking:
    """Rank movies by learned bias and return both ends.

    Args:
        biases: One bias per model movie index (``model.movie_biases()``).
        catalog: The model's catalogue (:func:`~matinee.explain.distributions.movie_catalog`).
        n: Movies at each end.
        min_ratings: Only movies with at least this many ratings (needs counts in the catalogue).
        most_rated: Only the ``most_rated`` movies with the most ratings, if given.

    Raises:
        ConfigError: a bad ``n``, ``min_ratings`` or ``most_rated``, or a count filter without
            counts.
        DataError: biases that are not one finite number per catalogue movie, or no movie left.
    """
    values = np.asarray(biases, dtype=np.float64)
    if values.ndim != 1:
        raise DataError(f"movie biases must be one-dimensional, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise DataError("movie biases hold NaN or infinite values")
    check_catalog(catalog, values.size, "the bias vector")
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    if min_ratings < 0:
        raise ConfigError(f"min_ratings must be >= 0, got {min_ratings}")
    has_counts = catalog["n_ratings"].null_count() < catalog.height
    if (min_ratings > 0 or most_rated is not None) and not has_counts:
        raise ConfigError("min_ratings and most_rated need ratings counts in the catalogue")
    keep = np.zeros(values.size, dtype=bool)
    keep[most_rated_movies(catalog, most_rated)] = True
    if min_ratings > 0:
        keep &= catalog["n_ratings"].fill_null(0).to_numpy() >= min_ratings
    candidates = np.flatnonzero(keep)
    if candidates.size == 0:
        raise DataError(f"no movie has at least {min_ratings} ratings")
    order = candidates[np.argsort(-values[candidates], kind="stable")]
    bottom_order = candidates[np.argsort(values[candidates], kind="stable")]
    return BiasRanking(
        top=_ranked(catalog, order[:n], values),
        bottom=_ranked(catalog, bottom_order[:n], values),
        candidates=int(candidates.size),
    )


def _ranked(
    catalog: pl.DataFrame, rows: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> pl.DataFrame:
    picked = take_rows(catalog, rows)
    return picked.with_columns(
        pl.Series("rank", np.arange(1, rows.size + 1, dtype=np.int64)),
        pl.Series("bias", values[rows]),
    ).select(BIAS_COLUMNS)
