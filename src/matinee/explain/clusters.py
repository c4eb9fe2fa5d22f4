"""Groups and maps of movies: k-means clusters of any movie vectors and 2-D or 3-D maps of them.

Maps come from PCA (linear, fast, stable), t-SNE (local neighbourhoods, the notebooks' choice) or
UMAP when the ``umap-learn`` package is installed.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.errors import ConfigError, MatineeError
from matinee.explain.distributions import check_catalog, check_rows, check_vectors, take_rows

__all__ = ["MapMethod", "cluster_movies", "cluster_summary", "movie_map", "umap_available"]

log = logging.getLogger(__name__)

MapMethod = Literal["pca", "tsne", "umap"]
"""How :func:`movie_map` lays movies out."""


def cluster_movies(
    vectors: npt.ArrayLike,
    catalog: pl.DataFrame,
    *,
    k: int = 8,
    rows: npt.ArrayLike | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """K-means clusters of the movie vectors of ``rows`` (all movies if None).

    Returns:
        The catalogue rows of the clustered movies with a ``cluster`` column (0 .. k-1) and
        ``distance`` (to the cluster's centre), in movie index order.
    """
    from sklearn.cluster import KMeans

    matrix = check_vectors(vectors)
    check_catalog(catalog, matrix.shape[0], "the movie vectors")
    picked = check_rows(matrix.shape[0], rows)
    if not 1 <= k <= picked.size:
        raise ConfigError(f"k must lie in 1..{picked.size} (the movies clustered), got {k}")
    kmeans = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(matrix[picked])
    labels = np.asarray(kmeans.labels_, dtype=np.int64)
    centres = np.asarray(kmeans.cluster_centers_)
    distance = np.linalg.norm(matrix[picked] - centres[labels], axis=1)
    return take_rows(catalog, picked).with_columns(
        pl.Series("cluster", labels), pl.Series("distance", distance)
    )


def cluster_summary(
    clusters: pl.DataFrame, *, n_genres: int = 3, n_titles: int = 5
) -> pl.DataFrame:
    """One row per cluster: ``cluster, size, top_genres, best_known``.

    ``top_genres`` are the most common genres with their share of the cluster's movies (for
    example ``Drama 62%``); ``best_known`` are the most rated titles (the closest to the centre
    when there are no counts).
    """
    if not {"cluster", "title", "genres", "n_ratings", "distance"} <= set(clusters.columns):
        raise ConfigError("expected the frame of cluster_movies()")
    rows = []
    for (cluster,), members in clusters.sort("cluster").group_by("cluster", maintain_order=True):
        counts: Counter[str] = Counter(g for genres in members["genres"].to_list() for g in genres)
        genres = [f"{g} {100 * c / members.height:.0f}%" for g, c in counts.most_common(n_genres)]
        by_fame = members.sort(
            [pl.col("n_ratings").fill_null(0), "distance"], descending=[True, False]
        )
        rows.append(
            {
                "cluster": int(str(cluster)),
                "size": members.height,
                "top_genres": genres,
                "best_known": by_fame["title"].head(n_titles).to_list(),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "cluster": pl.Int64,
            "size": pl.Int64,
            "top_genres": pl.List(pl.String),
            "best_known": pl.List(pl.String),
        },
    )


def umap_available() -> bool:
    """Whether the optional ``umap-learn`` package (in the ``plot`` extra) is installed.

    Looked up without importing it: importing umap compiles numba code for seconds.
    """
    import importlib.util

    return importlib.util.find_spec("umap") is not None


def movie_map(
    vectors: npt.ArrayLike,
    catalog: pl.DataFrame,
    *,
    method: MapMethod = "tsne",
    dims: int = 2,
    rows: npt.ArrayLike | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Coordinates of the movies of ``rows`` (all if None) on a ``dims``-D map.

    Returns:
        The catalogue rows with columns ``x, y`` (and ``z`` in 3-D), in movie index order.
    """
    matrix = check_vectors(vectors)
    check_catalog(catalog, matrix.shape[0], "the movie vectors")
    if dims not in (2, 3):
        raise ConfigError(f"dims must be 2 or 3, got {dims}")
    picked = check_rows(matrix.shape[0], rows)
    if picked.size <= dims:
        raise ConfigError(f"a {dims}-D map needs more than {dims} movies, got {picked.size}")
    coords = _embed(matrix[picked], method, dims, seed)
    names = ("x", "y", "z")[:dims]
    return take_rows(catalog, picked).with_columns(
        pl.Series(name, coords[:, i]) for i, name in enumerate(names)
    )


def _embed(matrix: npt.NDArray[np.float64], method: str, dims: int, seed: int) -> np.ndarray:
    if method == "pca":
        from sklearn.decomposition import PCA

        width = min(dims, matrix.shape[1])
        coords = np.asarray(PCA(n_components=width, random_state=seed).fit_transform(matrix))
        return np.pad(coords, ((0, 0), (0, dims - width)))
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (matrix.shape[0] - 1) / 3))
        tsne = TSNE(n_components=dims, perplexity=perplexity, init="pca", random_state=seed)
        return np.asarray(tsne.fit_transform(matrix))
    if method == "umap":
        if not umap_available():
            raise MatineeError(
                "UMAP maps need the umap-learn package: pip install umap-learn "
                "(or pip install 'matinee[plot]')"
            )
        with warnings.catch_warnings():  # umap warns that its optional TensorFlow part is absent
            warnings.filterwarnings("ignore", message=".*Tensorflow")
            import umap

        reducer = umap.UMAP(n_components=dims, random_state=seed, n_jobs=1)  # seeded: 1 thread
        return np.asarray(reducer.fit_transform(matrix))
    raise ConfigError(f"unknown map method {method!r}; valid: pca, tsne, umap")
