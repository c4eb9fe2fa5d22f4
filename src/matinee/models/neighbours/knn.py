"""ItemKNN: item-item nearest neighbours with shrunk cosine or adjusted-cosine similarity.

``sim(i, j) = <x_i, x_j> / (|x_i| |x_j| + shrinkage)`` over the users' columns of movies ``i`` and
``j``: plain cosine on 0/1 interactions, or adjusted cosine on ratings minus each user's mean
(Sarwar et al., 2001). Each movie keeps its ``neighbours`` most similar movies (positive
similarities only), stored sparse as ``S`` with ``S[j, i] = sim(i, j)`` for ``j`` a neighbour of
``i``. A user's scores are ``x_u @ S``: 0/1 rows for cosine, rating rows for adjusted cosine. The
scores order movies and are not ratings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.models._csr import pack_csr, unpack_csr
from matinee.models._ranker_common import FoldInConfig, interactions, top_neighbours
from matinee.models.config import setting
from matinee.models.neighbours._sparse_ranker import SparseItemRanker
from matinee.models.search import Choice, FloatRange, space
from matinee.training.loop import EpochRecord, FitOptions
from matinee.types import IndexArray, RatingArray

__all__ = ["ItemKNN", "ItemKNNConfig", "item_similarities"]


@dataclass(frozen=True, kw_only=True)
class ItemKNNConfig(FoldInConfig):
    """Hyperparameters of :class:`ItemKNN`."""

    rank_popularity_exponent: float = 0.1
    """New-user list scores over (count + 1) to this power (see :class:`FoldInConfig`); the
    kNN sums lose accuracy fastest when damped, so the damping is light."""

    SEARCH_SPACE = space(
        similarity=Choice(("cosine", "adjusted-cosine")),
        neighbours=(10, 500),
        shrinkage=FloatRange(0.0, 100.0),
    )

    similarity: Literal["cosine", "adjusted-cosine"] = "cosine"
    """Cosine over 0/1 interactions, or adjusted cosine over user-centred ratings."""

    neighbours: int = setting(100, low=1)
    """Most similar movies kept per movie."""

    shrinkage: float = setting(10.0, low=0.0)
    """Added to the norm product, pulling similarities built on few co-raters towards zero."""


def _user_centred(train: Ratings, threshold: float | None) -> sp.csr_matrix:
    """Users x movies CSR of ratings minus the user's mean (rows kept as in ``interactions``)."""
    sums = np.bincount(train.user_idx, weights=train.rating, minlength=train.n_users)
    counts = np.maximum(train.user_counts(), 1)
    centred = train.rating - (sums / counts)[train.user_idx]
    keep = np.ones(len(train), dtype=bool) if threshold is None else train.rating >= threshold
    matrix = sp.csr_matrix(
        (centred[keep].astype(np.float32), (train.user_idx[keep], train.movie_idx[keep])),
        shape=(train.n_users, train.n_movies),
    )
    matrix.sort_indices()
    return matrix


def item_similarities(matrix: sp.csr_matrix, *, neighbours: int, shrinkage: float) -> sp.csr_matrix:
    """Movies x movies CSR ``N`` with ``N[i, j] = sim(i, j)`` for the top neighbours ``j`` of ``i``.

    Built block by block of movies so that memory stays at one dense ``block x n_movies`` slab.
    """
    by_movie = matrix.T.tocsr().astype(np.float64)
    n_movies = by_movie.shape[0]
    norms = np.sqrt(np.asarray(by_movie.multiply(by_movie).sum(axis=1)).ravel())

    def block_scores(start: int, stop: int) -> npt.NDArray[np.float64]:
        dots = (by_movie[start:stop] @ by_movie.T).toarray()
        denominator = np.outer(norms[start:stop], norms) + shrinkage
        similar: npt.NDArray[np.float64] = np.divide(
            dots, denominator, out=np.zeros_like(dots), where=denominator > 0
        )
        return similar

    return top_neighbours(block_scores, n_movies, neighbours)


class ItemKNN(SparseItemRanker[ItemKNNConfig]):
    """Item-based nearest neighbours; fold-in of a new user goes through the same weights."""

    name = "item-knn"
    config_type = ItemKNNConfig

    def __init__(self, config: ItemKNNConfig | None = None) -> None:
        super().__init__(config)
        self.neighbours_: sp.csr_matrix | None = None

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        threshold = self.config.positive_threshold
        adjusted = self.config.similarity == "adjusted-cosine"
        similarity_input = _user_centred(train, threshold) if adjusted else None
        binary = interactions(train, threshold)
        neighbours = item_similarities(
            binary if similarity_input is None else similarity_input,
            neighbours=self.config.neighbours,
            shrinkage=self.config.shrinkage,
        )
        self._set_state(neighbours, self._scoring_rows(train, binary))
        return []

    def _scoring_rows(self, train: Ratings, binary: sp.csr_matrix) -> sp.csr_matrix:
        if self.config.similarity == "cosine":
            return binary
        threshold = self.config.positive_threshold
        keep = np.ones(len(train), dtype=bool) if threshold is None else train.rating >= threshold
        rated = sp.csr_matrix(
            (train.rating[keep], (train.user_idx[keep], train.movie_idx[keep])),
            shape=binary.shape,
            dtype=np.float32,
        )
        rated.sort_indices()
        return rated

    def _set_state(self, neighbours: sp.csr_matrix, user_items: sp.csr_matrix) -> None:
        self.neighbours_ = neighbours
        self.weights_ = neighbours.T.tocsr()
        self.user_items_ = user_items

    def _neighbours(self) -> sp.csr_matrix:
        """``N`` (``W`` transposed); raises ``NotFittedError`` before ``fit``."""
        return self._learned(self.neighbours_, "similarities")

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        weights, _ = self._state()
        threshold = self.config.positive_threshold
        keep = np.ones(movies.size, dtype=bool) if threshold is None else ratings >= threshold
        values = ratings[keep] if self.config.similarity == "adjusted-cosine" else None
        row = np.zeros(self.n_movies, dtype=np.float32)
        row[movies[keep]] = 1.0 if values is None else values
        return np.asarray(weights.T @ row).ravel()

    def _new_user_row(self, movies: IndexArray, ratings: RatingArray) -> sp.csr_matrix:
        """Liked ratings weighted fully; with adjusted cosine, times the ratings themselves."""
        row = super()._new_user_row(movies, ratings)
        if self.config.similarity == "adjusted-cosine":
            keep = np.isin(movies, row.indices)
            order = np.argsort(movies[keep], kind="stable")
            row.data = row.data * ratings[keep][order]
        return row

    def movie_similarities(self, movie: int) -> npt.NDArray[np.floating[Any]]:
        """Similarity of every movie to ``movie`` (zero outside its kept neighbours)."""
        neighbours = self._neighbours()
        index = int(self._check_indices(movie, self.n_movies, "movie")[0])
        return np.asarray(neighbours[index].toarray()).ravel()

    def _parameters(self) -> dict[str, np.ndarray]:
        _, user_items = self._state()
        return {**pack_csr(self._neighbours(), "neighbours"), **pack_csr(user_items, "user_items")}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        square = (self.n_movies, self.n_movies)
        self._set_state(
            unpack_csr(params, "neighbours", square),
            unpack_csr(params, "user_items", (self.n_users, self.n_movies)),
        )
