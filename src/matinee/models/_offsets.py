"""The bias baseline as a part of other models: ``level + b_u + b_i``, fitted, folded in, saved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.models._rating_common import check_shape, check_shape_f64
from matinee.models.baselines.baseline import BiasBaselineConfig, fit_biases, fold_in_user_bias
from matinee.types import IndexArray

__all__ = ["BaselineOffsets"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BaselineOffsets:
    """``level + b_u + b_i`` with the bias baseline's defaults, for models that predict on it."""

    level: float
    user_bias: npt.NDArray[np.float32]
    movie_bias: npt.NDArray[np.float32]
    fold_in: bool = True
    """Whether a new user gets a bias (False for :meth:`zero`)."""

    @classmethod
    def fit(cls, train: Ratings) -> BaselineOffsets:
        """The bias baseline of ``train`` around its mean rating."""
        level = train.mean()
        return cls(level, *fit_biases(train, level))

    @classmethod
    def zero(cls, n_users: int, n_movies: int) -> BaselineOffsets:
        """No offsets at all (how models saved before they had them predict)."""
        zeros = np.zeros(n_users, dtype=np.float32), np.zeros(n_movies, dtype=np.float32)
        return cls(0.0, *zeros, fold_in=False)

    def at(self, users: IndexArray, movies: IndexArray) -> FloatArray:
        """The offsets of (user, movie) pairs."""
        result: FloatArray = (
            self.level + self.user_bias[users].astype(np.float64) + self.movie_bias[movies]
        )
        return result

    def rows(self, user_bias: npt.NDArray[np.floating]) -> FloatArray:
        """Offsets of every movie for users with the given biases (one row each)."""
        bias = np.asarray(user_bias, dtype=np.float64)[:, None]
        result: FloatArray = self.level + bias + self.movie_bias.astype(np.float64)
        return result

    def new_user_bias(self, movies: IndexArray, ratings: npt.NDArray[np.floating]) -> float:
        """A new user's bias as the baseline folds it in (0 for :meth:`zero`)."""
        if not self.fold_in:
            return 0.0
        reg = BiasBaselineConfig().reg_users
        return fold_in_user_bias(ratings, self.level + self.movie_bias[movies], reg)

    def parameters(self) -> dict[str, np.ndarray]:
        """``user_bias``, ``movie_bias`` and ``baseline_level``."""
        return {
            "user_bias": self.user_bias,
            "movie_bias": self.movie_bias,
            "baseline_level": np.asarray([self.level], dtype=np.float64),
        }

    @classmethod
    def from_parameters(
        cls, params: Mapping[str, np.ndarray], n_users: int, n_movies: int
    ) -> BaselineOffsets:
        """Saved offsets back; :meth:`zero` for a save without ``baseline_level``."""
        if "baseline_level" not in params:
            return cls.zero(n_users, n_movies)
        level = float(check_shape_f64(params, "baseline_level", (1,))[0])
        user_bias = check_shape(params, "user_bias", (n_users,))
        return cls(level, user_bias, check_shape(params, "movie_bias", (n_movies,)))
