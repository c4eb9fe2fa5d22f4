"""Scores of the biased factor models (biased MF, SVD++): ``mu + b_u + b_i + p_u . q_i``."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from matinee.models.config import Config
from matinee.models.factorization._sgd import factor_dot
from matinee.models.ranking import TasteRanked
from matinee.types import IndexArray

__all__ = ["BiasedFactorModel", "BiasedFactors"]

C = TypeVar("C", bound=Config)


class BiasedFactors(NamedTuple):
    """The learned parts of ``r = mu + b_u + b_i + p_u . q_i`` (``p_u`` SVD++'s full vector)."""

    mean: float
    user_vectors: npt.NDArray[np.float32]
    movie_factors: npt.NDArray[np.float32]
    user_bias: npt.NDArray[np.float32]
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


class BiasedFactorModel(TasteRanked[C]):
    """Base of the biased factor models: ``predict`` and scores come from :meth:`_biased`."""

    @abstractmethod
    def _biased(self) -> BiasedFactors:
        """The fitted weights as one scorer."""

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._biased().predict(users, movies)

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._biased().user_scores(users)
