"""ImplicitALS: matrix factorisation for implicit feedback (Hu, Koren and Volinsky, 2008).

It minimises ``sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 + |Y|^2)`` with preference
``p_ui = 1`` on rated cells and 0 elsewhere, and confidence ``c_ui = 1 + alpha`` on rated cells and
1 elsewhere, alternating conjugate-gradient solves of the user and the movie factors (numba, all
cores). A new user is folded in by one exact least-squares solve for their vector. The scores
``x_u . y_i`` order movies; they are not ratings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.models._ranker_common import (
    FoldInConfig,
    damp_popularity,
    fold_in_weights,
    interactions,
    movie_counts,
)
from matinee.models.base import Recommender
from matinee.models.config import EpochConfig, setting
from matinee.models.factorization._ials_kernels import conjugate_gradient_rows
from matinee.models.search import IntRange, space
from matinee.training.loop import ArrayTrainer, EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray, RatingArray

__all__ = ["ImplicitALS", "ImplicitALSConfig"]

Factors = npt.NDArray[np.float32]
CsrArrays = tuple[npt.NDArray[np.int64], IndexArray]


@dataclass(frozen=True, kw_only=True)
class ImplicitALSConfig(EpochConfig, FoldInConfig):
    """Hyperparameters of :class:`ImplicitALS`."""

    rank_popularity_exponent: float = 0.1
    """New-user list scores over (count + 1) to this power (see :class:`FoldInConfig`)."""

    SEARCH_SPACE = space(
        n_factors=(16, 256), reg=(0.001, 1.0), alpha=(0.5, 40.0), epochs=IntRange(5, 30)
    )

    epochs: int = 15
    """Alternating passes (users, then movies)."""

    n_factors: int = setting(64, low=1)
    """Length of each user and movie vector."""

    reg: float = setting(0.05, low=0.0, low_open=True)
    """L2 penalty ``lambda`` on both factor matrices."""

    alpha: float = setting(2.0, low=0.0)
    """Extra confidence on rated cells: ``c = 1 + alpha``."""

    cg_steps: int = setting(3, low=1)
    """Conjugate-gradient steps per row and pass (3 is close to an exact solve after a few
    epochs)."""

    init_std: float = setting(0.01, low=0.0, low_open=True)
    """Standard deviation of the random initial factors."""


class _ALSTrainer(ArrayTrainer):
    """One epoch of implicit ALS for :func:`run_epochs`.

    Users and movies are renumbered busiest first while training, so the factor rows most
    cells read sit together in cache; :meth:`factors` gives them back in the original order.
    Rows are solved independently, so the order changes no result, only the speed.
    """

    def __init__(
        self, config: ImplicitALSConfig, matrix: sp.csr_matrix, users: Factors, items: Factors
    ) -> None:
        self.config = config
        self.user_order = _busiest_first(matrix.getnnz(axis=1))
        self.item_order = _busiest_first(matrix.getnnz(axis=0))
        ordered = matrix[self.user_order][:, self.item_order].tocsr()
        ordered.sort_indices()
        self.by_user = _csr_arrays(ordered)
        self.by_item = _csr_arrays(ordered.T.tocsr())
        self.weights = {"users": users[self.user_order], "items": items[self.item_order]}
        self.validation = None

    def factors(self) -> tuple[Factors, Factors]:
        """The user and movie factors, in the original numbering."""
        users = np.empty_like(self.weights["users"])
        items = np.empty_like(self.weights["items"])
        users[self.user_order] = self.weights["users"]
        items[self.item_order] = self.weights["items"]
        return users, items

    def _solve(self, rows: CsrArrays, fixed: Factors, solved: Factors) -> float:
        """CG steps for every row of ``solved``; the objective with ``fixed`` held."""
        gram = fixed.T @ fixed + np.float32(self.config.reg) * np.eye(
            fixed.shape[1], dtype=np.float32
        )
        return conjugate_gradient_rows(
            *rows,
            1.0 + self.config.alpha,
            fixed,
            np.ascontiguousarray(gram, dtype=np.float32),
            solved,
            self.config.cg_steps,
        )

    def train_epoch(self, epoch: int) -> dict[str, float]:
        users, items = self.weights["users"], self.weights["items"]
        self._solve(self.by_user, items, users)
        objective = self._solve(self.by_item, users, items)
        penalty = self.config.reg * float(np.dot(users.ravel(), users.ravel()))
        return {"loss": (objective + penalty) / max(self.by_user[1].size, 1)}

    def validation_loss(self) -> float | None:
        return None


def _busiest_first(counts: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]:
    """Row numbers by falling count (ties by number): the new order of users or movies."""
    return np.argsort(-np.asarray(counts, dtype=np.int64), kind="stable")


def _csr_arrays(matrix: sp.csr_matrix) -> CsrArrays:
    """The ``indptr`` (int64) and ``indices`` (int32) of a CSR matrix of ones."""
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32)


class ImplicitALS(Recommender[ImplicitALSConfig]):
    """Implicit-feedback ALS; ``movie_vectors`` gives the movie factors for similar movies."""

    name = "ials"
    config_type = ImplicitALSConfig
    predicts_ratings: ClassVar[bool] = False

    def __init__(self, config: ImplicitALSConfig | None = None) -> None:
        super().__init__(config)
        self.user_factors_: Factors | None = None
        self.movie_factors_: Factors | None = None
        self._movie_gram: npt.NDArray[np.float64] | None = None
        self.movie_counts_: npt.NDArray[np.float64] | None = None

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        matrix = interactions(train, self.config.positive_threshold)
        rng = np.random.default_rng(self.config.seed)
        shape = self.config.n_factors
        scale = self.config.init_std
        users = (rng.standard_normal((train.n_users, shape)) * scale).astype(np.float32)
        items = (rng.standard_normal((train.n_movies, shape)) * scale).astype(np.float32)
        trainer = _ALSTrainer(self.config, matrix, users, items)
        history = run_epochs(trainer, self.config, options, description="implicit ALS")
        self.user_factors_, self.movie_factors_ = trainer.factors()
        self.movie_counts_ = movie_counts(matrix)
        self._movie_gram = None
        return history

    def _factors(self) -> tuple[Factors, Factors]:
        return (
            self._learned(self.user_factors_, "factors"),
            self._learned(self.movie_factors_, "factors"),
        )

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        user_factors, movie_factors = self._factors()
        products: npt.NDArray[np.float32] = np.einsum(
            "ij,ij->i", user_factors[users], movie_factors[movies]
        )
        return products

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        user_factors, movie_factors = self._factors()
        return user_factors[users] @ movie_factors.T

    def user_vector(
        self, movies: IndexArray, ratings: RatingArray, *, weighted: bool = False
    ) -> Factors:
        """The least-squares user vector of someone who rated ``movies`` (exact, not CG).

        ``Y^T Y + lambda I`` is computed once and kept, so a fold-in costs ``O(n k^2)`` only
        for the ``n`` rated movies. With ``weighted`` each rating's extra confidence ``alpha``
        is scaled by its :func:`fold_in_weights` (liked movies count fully).
        """
        _, movie_factors = self._factors()
        threshold = self.config.positive_threshold
        keep = np.ones(movies.size, dtype=bool) if threshold is None else ratings >= threshold
        rated = movie_factors[movies[keep]].astype(np.float64)
        strength = np.ones(rated.shape[0])
        if weighted:
            strength = fold_in_weights(ratings[keep], self.config).astype(np.float64)
        extra = self.config.alpha * strength
        if self._movie_gram is None:
            gram = movie_factors.T.astype(np.float64) @ movie_factors
            self._movie_gram = gram + self.config.reg * np.eye(self.config.n_factors)
        system = self._movie_gram + (extra[:, None] * rated).T @ rated
        target = ((1.0 + extra)[:, None] * rated).sum(axis=0)
        return np.linalg.solve(system, target).astype(np.float32)

    def _rank_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """The weighted fold-in's scores, popularity damped (see :class:`FoldInConfig`).

        Models saved before the movie counts were kept rank without the damping.
        """
        _, movie_factors = self._factors()
        scores = movie_factors @ self.user_vector(movies, ratings, weighted=True)
        if self.movie_counts_ is None:
            return scores
        return damp_popularity(scores, self.movie_counts_, self.config.rank_popularity_exponent)

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        _, movie_factors = self._factors()
        return movie_factors @ self.user_vector(movies, ratings)

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        """The movie factors (``n_movies x factors``)."""
        return self._factors()[1]

    def _parameters(self) -> dict[str, np.ndarray]:
        user_factors, movie_factors = self._factors()
        counts = {} if self.movie_counts_ is None else {"movie_counts": self.movie_counts_}
        return {"user_factors": user_factors, "movie_factors": movie_factors, **counts}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        users = np.asarray(params["user_factors"], dtype=np.float32)
        movies = np.asarray(params["movie_factors"], dtype=np.float32)
        width = self.config.n_factors
        if users.shape != (self.n_users, width) or movies.shape != (self.n_movies, width):
            raise ValueError(
                f"factors have shapes {users.shape} and {movies.shape}, expected "
                f"({self.n_users}, {width}) and ({self.n_movies}, {width})"
            )
        self.user_factors_, self.movie_factors_ = users, movies
        self.movie_counts_ = None
        if "movie_counts" in params:
            counts = np.asarray(params["movie_counts"], dtype=np.float64)
            if counts.shape != (self.n_movies,):
                raise ValueError(f"movie_counts has shape {counts.shape}, expected {self.n_movies}")
            self.movie_counts_ = counts
        self._movie_gram = None
