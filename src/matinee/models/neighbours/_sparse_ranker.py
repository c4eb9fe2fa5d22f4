"""The base of the sparse item-item rankers (item-kNN, RP3beta): a user's scores are ``x_u @ W``.

``W`` is a sparse movies x movies weight matrix and ``x_u`` the user's row of the users x movies
matrix the model scores with. The subclass learns both in ``_fit``, and says how a new user's
list row is built (:meth:`SparseItemRanker._new_user_row`).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.models._ranker_common import (
    FoldInConfig,
    damp_popularity,
    known_movie_counts,
    weighted_fold_in_row,
)
from matinee.models.base import Recommender
from matinee.types import IndexArray, RatingArray

__all__ = ["SparseItemRanker"]

C = TypeVar("C", bound=FoldInConfig)


class SparseItemRanker(Recommender[C]):
    """A ranker on sparse item-item weights: ``weights_`` (``W``) and ``user_items_`` (``X``)."""

    predicts_ratings: ClassVar[bool] = False

    def __init__(self, config: C | None = None) -> None:
        super().__init__(config)
        self.weights_: sp.csr_matrix | None = None
        self.user_items_: sp.csr_matrix | None = None

    def _state(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(W, X)``; raises ``NotFittedError`` before ``fit``."""
        return self._learned(self.weights_, "weights"), self._learned(self.user_items_, "weights")

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        weights, user_items = self._state()
        rows = user_items[users].tocoo()
        lookup = weights.tocsc()
        contributions = np.asarray(lookup[rows.col, movies[rows.row]]).ravel() * rows.data
        return np.asarray(
            np.bincount(rows.row, weights=contributions, minlength=users.size), dtype=np.float64
        )

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        weights, user_items = self._state()
        return np.asarray((user_items[users] @ weights).toarray())

    def _new_user_row(self, movies: IndexArray, ratings: RatingArray) -> sp.csr_matrix:
        """A new user's list row: liked ratings weighted fully (see :class:`FoldInConfig`)."""
        return weighted_fold_in_row(self.n_movies, movies, ratings, self.config)

    def _rank_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """The new user's row times ``W``, then popularity damped (see :class:`FoldInConfig`)."""
        weights, user_items = self._state()
        scores = (self._new_user_row(movies, ratings) @ weights).toarray()
        return damp_popularity(
            scores, known_movie_counts(user_items), self.config.rank_popularity_exponent
        )
