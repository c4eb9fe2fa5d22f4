"""Similar movies: cosine over a model's movie vectors, or its own item-item weights."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from matinee.errors import ConfigError
from matinee.models.base import Recommender
from matinee.ranking import check_k, select_top
from matinee.recommend.filters import MovieFilter, RatingCounts, allowed_movies
from matinee.recommend.topk import fitted_movies, with_movie_info

__all__ = ["ItemSimilarity", "movie_similarity_scores", "similar_movies"]


@runtime_checkable
class ItemSimilarity(Protocol):
    """A model that knows how alike two movies are (EASE, item-kNN) without movie vectors."""

    def movie_similarities(self, movie: int) -> npt.NDArray[np.floating[Any]]:
        """How alike every movie is to the movie at index ``movie`` (higher is closer)."""
        ...


def movie_similarity_scores(model: Recommender[Any], movie: int) -> npt.NDArray[np.float32]:
    """Similarity of every movie to the movie at index ``movie``.

    Uses the model's item-item weights when it has them, else the cosine between its movie
    vectors (factors, embeddings, autoencoder vectors).

    Raises:
        ConfigError: the model has neither.
    """
    if isinstance(model, ItemSimilarity):
        return np.asarray(model.movie_similarities(movie), dtype=np.float32)
    vectors = model.movie_vectors()
    if vectors is None:
        raise ConfigError(
            f"{type(model).__name__} has no movie vectors or item similarities to compare movies"
        )
    matrix = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    cosine: npt.NDArray[np.float32] = ((matrix @ matrix[movie]) / (norms * norms[movie])).astype(
        np.float32
    )
    return cosine


def similar_movies(
    model: Recommender[Any],
    movie_id: int,
    k: int = 10,
    *,
    movie_filter: MovieFilter | None = None,
    movies: pl.DataFrame | None = None,
    rating_counts: RatingCounts | None = None,
) -> pl.DataFrame:
    """The ``k`` movies most like ``movie_id``: rows ``rank, movie_id, similarity`` (+ info).

    The movie itself never comes back.

    Raises:
        UnknownIdError: a movie id the model does not know.
        ConfigError: a model without movie vectors or item similarities.
    """
    check_k(k)
    if isinstance(movie_id, bool) or not isinstance(movie_id, int | np.integer):
        raise ConfigError(f"movie_id must be an integer id, got {movie_id!r}")
    movie_map = fitted_movies(model)
    index = movie_map.index(int(movie_id))
    scores = movie_similarity_scores(model, index)[np.newaxis, :]
    itself = sp.csr_matrix(([1.0], [index], [0, 1]), shape=(1, len(movie_map)))
    allowed = allowed_movies(movie_map, movie_filter, movies=movies, rating_counts=rating_counts)
    _, chosen, similarity = select_top(scores, k, itself, allowed)
    frame = pl.DataFrame(
        {
            "rank": pl.Series(np.arange(1, chosen.size + 1), dtype=pl.Int32),
            "movie_id": pl.Series(movie_map.raw(chosen), dtype=pl.Int64),
            "similarity": pl.Series(similarity, dtype=pl.Float32),
        }
    )
    return with_movie_info(frame, movies)
