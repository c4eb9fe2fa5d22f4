"""What each latent dimension stands for: its top movies, PCA components, and its top viewers.

The same function serves MF factors, NMF features and autoencoder nodes, because all of them are
columns of a movies x dimensions matrix (``model.movie_vectors()``): a dimension is described by
the movies that score highest on it. PCA components of the movie vectors are described the same
way after projecting the movies on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.data.ids import IdMap
from matinee.errors import ConfigError, DataError
from matinee.explain.distributions import check_catalog, check_rows, check_vectors, take_rows
from matinee.models.base import Recommender
from matinee.types import FloatArray, IndexArray

__all__ = [
    "FACTOR_COLUMNS",
    "MovieFactorGrid",
    "PcaComponents",
    "movie_factor_grid",
    "pca_components",
    "top_movie_indices",
    "top_movies_per_factor",
    "top_viewers_per_node",
    "viewer_appearances",
    "viewer_weights",
]

FACTOR_COLUMNS = (
    "factor",
    "rank",
    "movie_idx",
    "movie_id",
    "title",
    "genres",
    "n_ratings",
    "value",
)
"""Columns of :func:`top_movies_per_factor`: the dimension, the movie's rank on it and its value."""


def top_movie_indices(
    vectors: npt.ArrayLike,
    *,
    n: int = 10,
    candidates: npt.ArrayLike | None = None,
    lowest: bool = False,
) -> list[IndexArray]:
    """For each column, the movie indices with the highest values (or lowest), best first.

    Ties are broken by movie index so results are deterministic.
    """
    matrix = check_vectors(vectors)
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    rows = check_rows(matrix.shape[0], candidates)
    sign = 1.0 if lowest else -1.0
    tops = []
    for column in range(matrix.shape[1]):
        order = np.argsort(sign * matrix[rows, column], kind="stable")[:n]
        tops.append(rows[order].astype(np.int32))
    return tops


def top_movies_per_factor(
    vectors: npt.ArrayLike,
    catalog: pl.DataFrame,
    *,
    n: int = 10,
    candidates: npt.ArrayLike | None = None,
    lowest: bool = False,
) -> pl.DataFrame:
    """The ``n`` movies that score highest (or lowest) on each dimension, one row per pair.

    Args:
        vectors: Movies x dimensions (MF factors, NMF features, autoencoder nodes, PCA scores).
        catalog: The model's catalogue.
        n: Movies per dimension.
        candidates: Movie indices to choose from (for example the 2,000 most rated, so that a
            dimension is described by movies people know); all movies if None.
        lowest: Take the lowest values instead (the other end of a signed factor).

    Returns:
        A frame with columns :data:`FACTOR_COLUMNS`, ordered by factor then rank.
    """
    matrix = check_vectors(vectors)
    check_catalog(catalog, matrix.shape[0], "the movie vectors")
    tops = top_movie_indices(matrix, n=n, candidates=candidates, lowest=lowest)
    parts = []
    for factor, rows in enumerate(tops):
        parts.append(
            take_rows(catalog, rows).with_columns(
                pl.lit(factor, dtype=pl.Int64).alias("factor"),
                pl.Series("rank", np.arange(1, rows.size + 1, dtype=np.int64)),
                pl.Series("value", matrix[rows, factor]),
            )
        )
    return pl.concat(parts).select(FACTOR_COLUMNS)


@dataclass(frozen=True)
class PcaComponents:
    """Principal components of movie vectors, fitted on a subset of movies."""

    scores: FloatArray
    """Every movie projected on the components: ``n_movies x n_components``."""
    explained_variance_ratio: FloatArray
    """Share of the fitted movies' variance each component explains."""
    fitted_rows: IndexArray
    """Movie indices the components were fitted on."""


def pca_components(
    vectors: npt.ArrayLike,
    *,
    n_components: int = 3,
    fit_rows: npt.ArrayLike | None = None,
    seed: int = 0,
) -> PcaComponents:
    """Fit a PCA on the movie vectors of ``fit_rows`` (all if None) and project every movie.

    The seed notebooks used 3 components of the 2,000 most rated movies: pass
    ``fit_rows=most_rated_movies(catalog, 2000)``.
    """
    from sklearn.decomposition import PCA

    matrix = check_vectors(vectors)
    rows = check_rows(matrix.shape[0], fit_rows)
    limit = min(rows.size, matrix.shape[1])
    if not 1 <= n_components <= limit:
        raise ConfigError(
            f"n_components must lie in 1..{limit} (movies and dimensions), got {n_components}"
        )
    pca = PCA(n_components=n_components, random_state=seed).fit(matrix[rows])
    return PcaComponents(
        scores=np.asarray(pca.transform(matrix), dtype=np.float64),
        explained_variance_ratio=np.asarray(pca.explained_variance_ratio_, dtype=np.float64),
        fitted_rows=rows,
    )


@dataclass(frozen=True)
class MovieFactorGrid:
    """A movies x dimensions block of vector values, for a heatmap."""

    values: FloatArray
    titles: tuple[str, ...]
    factor_labels: tuple[str, ...]


def movie_factor_grid(
    vectors: npt.ArrayLike,
    catalog: pl.DataFrame,
    *,
    per_factor: int = 3,
    candidates: npt.ArrayLike | None = None,
    max_factors: int = 12,
    label: str = "factor",
) -> MovieFactorGrid:
    """Values of the top ``per_factor`` movies of each of the first ``max_factors`` dimensions.

    Rows are grouped by the dimension that picked them, so a heatmap of a model whose dimensions
    pick distinct movies shows a bright diagonal of blocks.
    """
    matrix = check_vectors(vectors)
    check_catalog(catalog, matrix.shape[0], "the movie vectors")
    if max_factors < 1:
        raise ConfigError(f"max_factors must be >= 1, got {max_factors}")
    shown = matrix[:, :max_factors]
    tops = top_movie_indices(shown, n=per_factor, candidates=candidates)
    rows = list(dict.fromkeys(int(row) for top in tops for row in top))
    titles = catalog["title"].to_list()
    return MovieFactorGrid(
        values=shown[rows],
        titles=tuple(titles[row] for row in rows),
        factor_labels=tuple(f"{label} {i}" for i in range(shown.shape[1])),
    )


def top_viewers_per_node(
    weights: npt.ArrayLike, users: IdMap, *, n: int = 10, lowest: bool = False
) -> pl.DataFrame:
    """The viewers with the largest input weights into each hidden node.

    Returns a frame ``node, rank, user_idx, user_id, weight``, ordered by node then rank.

    Args:
        weights: Viewers x nodes, the first-layer weights of a movie autoencoder (each movie is a
            vector of its ratings by viewer; a node is driven by the viewers it weighs most).
        users: The model's ``users_`` id map (index -> raw user id).
        n: Viewers per node.
        lowest: Take the most negative weights instead.
    """
    matrix = check_vectors(weights, "viewer weights")
    if matrix.shape[0] != len(users):
        raise DataError(
            f"viewer weights have {matrix.shape[0]} rows but there are {len(users)} users"
        )
    tops = top_movie_indices(matrix, n=n, lowest=lowest)
    frames = [
        pl.DataFrame(
            {
                "node": np.full(rows.size, node, dtype=np.int64),
                "rank": np.arange(1, rows.size + 1, dtype=np.int64),
                "user_idx": rows.astype(np.int64),
                "user_id": users.raw_ids[rows],
                "weight": matrix[rows, node],
            }
        )
        for node, rows in enumerate(tops)
    ]
    return pl.concat(frames)


def viewer_appearances(top_viewers: pl.DataFrame) -> pl.DataFrame:
    """How often each viewer is among a node's top viewers: ``user_id, appearances, nodes``.

    Sorted by appearances (most first); a viewer who drives many nodes dominates the model.
    """
    if not {"node", "user_id"} <= set(top_viewers.columns):
        raise DataError("expected the frame of top_viewers_per_node()")
    return (
        top_viewers.group_by("user_id")
        .agg(pl.len().cast(pl.Int64).alias("appearances"), pl.col("node").sort().alias("nodes"))
        .sort(["appearances", "user_id"], descending=[True, False])
    )


def viewer_weights(model: Recommender[Any]) -> FloatArray | None:
    """The viewers x nodes input weights of a movie autoencoder, or None if it has none.

    Uses the model's ``viewer_weights()`` method when it has one; else a parameter named
    ``viewer_weights`` or ``net.encoder.weight`` (the first layer of a network whose inputs are
    viewers) with one axis of length ``n_users``, in either orientation.
    """
    method = getattr(model, "viewer_weights", None)
    if callable(method):
        weights = method()
        return None if weights is None else np.asarray(weights, dtype=np.float64)
    params = model.parameters()
    for name in ("viewer_weights", "net.encoder.weight"):
        array = params.get(name)
        if array is not None and array.ndim == 2 and model.n_users in array.shape:
            oriented = array if array.shape[0] == model.n_users else array.T
            return np.asarray(oriented, dtype=np.float64)
    return None
