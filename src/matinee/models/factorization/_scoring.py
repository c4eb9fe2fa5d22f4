"""Scores of the biased factor models (biased MF, SVD++): ``mu + b_u + b_i + p_u . q_i``.

One formula for the fitted model (:class:`BiasedFactors`) and for its trainer while it learns
(:class:`FactorTrainer`: the predictions an epoch's loss and the validation RMSE are made of).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.models._rating_common import (
    ArraySnapshot,
    LearnedBiases,
    RatingTrainer,
    check_shape,
)
from matinee.models.config import Config
from matinee.models.factorization._als import als_half_step
from matinee.models.factorization._sgd import factor_dot
from matinee.models.ranking import TasteRanked
from matinee.types import IndexArray

__all__ = ["BiasedFactorModel", "BiasedFactors", "FactorTrainer", "fold_in_rows"]

C = TypeVar("C", bound=Config)


class BiasedFactors(NamedTuple):
    """The learned parts of ``r = mu + b_u + b_i + p_u . q_i`` (``p_u`` SVD++'s full vector)."""

    mean: float
    user_vectors: npt.NDArray[np.float32]
    movie_factors: npt.NDArray[np.float32]
    user_bias: npt.NDArray[np.floating[Any]]
    movie_bias: npt.NDArray[np.float32]

    def predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """The rating of each (user, movie) pair."""
        dot = factor_dot(users, movies, self.user_vectors, self.movie_factors)
        predicted: npt.NDArray[np.float64] = (
            self.mean + self.user_bias[users] + self.movie_bias[movies] + dot
        )
        return predicted

    def user_scores(self, users: IndexArray) -> npt.NDArray[np.float32]:
        """Every movie's predicted rating for each of ``users`` (one row each)."""
        scores = self.user_vectors[users] @ self.movie_factors.T
        scores += (self.mean + self.user_bias[users])[:, None]
        scores += self.movie_bias[None, :]
        return scores

    def new_user_scores(
        self, user_bias: float, user_vector: npt.NDArray[Any]
    ) -> npt.NDArray[np.float64]:
        """Every movie's predicted rating for a folded-in user ``(b_u, p_u)``."""
        offset = self.mean + user_bias
        scores: npt.NDArray[np.float64] = (
            offset + self.movie_bias + self.movie_factors @ user_vector
        )
        return scores

    def new_user_scores_at(
        self, user_bias: float, user_vector: npt.NDArray[Any], movies: IndexArray
    ) -> npt.NDArray[np.float64]:
        """The predicted ratings of ``movies`` only, for a folded-in user ``(b_u, p_u)``."""
        offset = self.mean + user_bias
        scores: npt.NDArray[np.float64] = (
            offset + self.movie_bias[movies] + self.movie_factors[movies] @ user_vector
        )
        return scores


class FactorTrainer(RatingTrainer[C]):
    """An epoch trainer of ``mu + b_u + b_i + p_u . q_i`` weights: its predictions and RMSE.

    Subclasses fill ``weights`` (``user_factors``, ``movie_factors``, ``user_bias``,
    ``movie_bias``) and run the epochs; predicting goes through :class:`BiasedFactors`, the
    fitted model's own scorer.
    """

    weights: ArraySnapshot

    def user_vectors(self) -> npt.NDArray[np.float32]:
        """What multiplies the movie factors: ``p_u`` (SVD++ adds its implicit part)."""
        return self.weights["user_factors"]

    def predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """``mu + b_u + b_i + p_u . q_i`` of (user, movie) index pairs, as the weights stand."""
        w = self.weights
        scorer = BiasedFactors(
            self.mean, self.user_vectors(), w["movie_factors"], w["user_bias"], w["movie_bias"]
        )
        return scorer.predict(users, movies)


def fold_in_rows(
    rows: sp.csr_matrix, scorer: BiasedFactors, reg: float, reg_bias: float, use_bias: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Every row's ridge fold-in ``(b_u, p_u)`` at once, against the fixed movie side.

    The ridge problem of a one-user fold-in (penalties ``reg`` and ``reg_bias`` times the
    person's rating count) solved for all rows by ALS's user half step: compiled, in parallel,
    in float64. Returns the biases (zeros without ``use_bias``) and the factor rows.
    """
    vectors = np.zeros((rows.shape[0], scorer.movie_factors.shape[1]), dtype=np.float64)
    bias = np.zeros(rows.shape[0], dtype=np.float64)
    als_half_step(
        rows.indptr.astype(np.int64),
        rows.indices.astype(np.int32),
        rows.data.astype(np.float32),
        scorer.movie_factors,
        scorer.movie_bias,
        scorer.mean,
        vectors,
        bias,
        reg,
        reg_bias,
        use_bias,
    )
    return bias, vectors


class BiasedFactorModel(LearnedBiases[C], TasteRanked[C]):
    """Base of the biased factor models: ``predict`` and scores come from :meth:`_biased`.

    The learned ``p_u``, ``q_i``, ``b_u`` and ``b_i`` live in ``user_factors_``,
    ``movie_factors_``, ``user_bias_`` and ``movie_bias_``, and are saved under those names.
    """

    user_factors_: npt.NDArray[np.float32]
    movie_factors_: npt.NDArray[np.float32]

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        """The movie factors ``q_i``."""
        return self.movie_factors_

    def _weight_arrays(self) -> dict[str, np.ndarray]:
        """``p_u``, ``q_i``, ``b_u`` and ``b_i`` by their saved names."""
        return {
            "user_factors": self.user_factors_,
            "movie_factors": self.movie_factors_,
            **self._bias_arrays(),
        }

    def _set_weight_arrays(self, weights: Mapping[str, npt.NDArray[np.float32]]) -> None:
        """Take ``p_u``, ``q_i``, ``b_u`` and ``b_i`` from a trainer's arrays, by saved name."""
        self.user_factors_ = np.ascontiguousarray(weights["user_factors"])
        self.movie_factors_ = np.ascontiguousarray(weights["movie_factors"])
        self.user_bias_ = weights["user_bias"]
        self.movie_bias_ = weights["movie_bias"]

    def _load_weight_arrays(self, params: Mapping[str, np.ndarray], rank: int) -> None:
        """Set the four arrays from saved ones, checking each shape (``rank`` factors)."""
        n_users, n_movies = self.n_users, self.n_movies
        self.user_factors_ = check_shape(params, "user_factors", (n_users, rank))
        self.movie_factors_ = check_shape(params, "movie_factors", (n_movies, rank))
        self._load_bias_arrays(params)

    @abstractmethod
    def _biased(self) -> BiasedFactors:
        """The fitted weights as one scorer."""

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._biased().predict(users, movies)

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._biased().user_scores(users)
