"""Ratings from a zero-filled reconstruction: the bias baseline plus a fitted linear correction.

A model that reconstructs the zero-filled ratings matrix (``nmf-matrix``, ``movie-autoencoder``)
reproduces the zeros of unrated cells, so its raw values are no ratings (RMSE about 2.6). What
it does carry is how much more a cell stands out than its row and column. Such a model predicts

``r = level + b_u + b_i + a x + b (x - xbar_u) + c (x - xbar_i) + d``

with ``x`` the reconstructed cell, ``xbar_u`` / ``xbar_i`` its user's and movie's mean
reconstruction over all cells, ``b_u`` / ``b_i`` the bias baseline's biases (level: the global
mean), and ``a..d`` fitted by least squares on ratings held out of an inner fit: fitted on the
training cells themselves they learn the reconstruction's own fit of those ratings, which does
not carry to unseen cells (ml-latest-small: RMSE 0.8544 against the baseline's 0.8526).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.data.splits import random_split
from matinee.models._rating_common import check_shape
from matinee.models.baselines.baseline import BiasBaselineConfig, fit_biases
from matinee.types import IndexArray

__all__ = ["HELD_OUT", "Calibration", "Reconstruction", "fit_calibration"]

HELD_OUT = 0.1
"""Share of the training ratings held out of the inner fit to fit the correction on."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Reconstruction:
    """A fitted reconstruction: its cells, and every user's and movie's mean over all cells."""

    cells: Callable[[IndexArray, IndexArray], FloatArray]
    user_means: FloatArray
    movie_means: FloatArray

    def features(self, users: IndexArray, movies: IndexArray) -> FloatArray:
        """``[x, x - xbar_u, x - xbar_i, 1]`` per (user, movie) pair."""
        return _features(
            self.cells(users, movies), self.user_means[users], self.movie_means[movies]
        )


def _features(values: FloatArray, user_means: FloatArray, movie_means: FloatArray) -> FloatArray:
    values = np.asarray(values, dtype=np.float64)
    return np.column_stack(
        [values, values - user_means, values - movie_means, np.ones_like(values)]
    )


@dataclass(frozen=True)
class Calibration:
    """``level + b_u + b_i`` plus coefficients ``(a, b, c, d)`` on the reconstruction."""

    level: float
    user_bias: npt.NDArray[np.float32]
    movie_bias: npt.NDArray[np.float32]
    coefficients: FloatArray
    fold_in_bias: bool = True
    """Whether a new user gets a bias (False for :meth:`identity`, which has none)."""

    @classmethod
    def identity(cls, n_users: int, n_movies: int) -> Calibration:
        """The raw reconstruction as the rating (how models saved before calibration predict)."""
        zeros = np.zeros(n_users, dtype=np.float32), np.zeros(n_movies, dtype=np.float32)
        return cls(0.0, *zeros, np.array([1.0, 0.0, 0.0, 0.0]), fold_in_bias=False)

    def predict(self, fitted: Reconstruction, users: IndexArray, movies: IndexArray) -> FloatArray:
        """Ratings of (user, movie) pairs."""
        base = self.level + self.user_bias[users].astype(np.float64) + self.movie_bias[movies]
        return base + fitted.features(users, movies) @ self.coefficients

    def rows(
        self,
        values: FloatArray,
        user_bias: npt.NDArray[np.floating],
        user_means: npt.NDArray[np.floating],
        movie_means: FloatArray,
    ) -> FloatArray:
        """Ratings of every movie for users given their reconstructed rows (one per user)."""
        a, b, c, d = self.coefficients
        level = self.level + np.asarray(user_bias, dtype=np.float64)[:, None] + self.movie_bias
        spread = (a + b + c) * values - b * np.asarray(user_means)[:, None] - c * movie_means
        result: FloatArray = level + spread + d
        return result

    def new_user_bias(self, movies: IndexArray, ratings: npt.NDArray[np.floating]) -> float:
        """A new user's bias as the baseline folds it in (its ``reg_users``, default 5)."""
        if not self.fold_in_bias:
            return 0.0
        residual = np.asarray(ratings, dtype=np.float64) - self.level - self.movie_bias[movies]
        return float(residual.sum()) / (BiasBaselineConfig().reg_users + residual.size)

    def parameters(self) -> dict[str, np.ndarray]:
        """Saved arrays: the biases, and ``calibration = [level, a, b, c, d]``."""
        return {
            "user_bias": self.user_bias,
            "movie_bias": self.movie_bias,
            "calibration": np.concatenate([[self.level], self.coefficients]),
        }

    @classmethod
    def from_parameters(
        cls, params: Mapping[str, np.ndarray], n_users: int, n_movies: int
    ) -> Calibration:
        """Saved arrays back; a save without ``calibration`` predicts its raw reconstruction."""
        if "calibration" not in params:
            return cls.identity(n_users, n_movies)
        values = np.asarray(params["calibration"], dtype=np.float64)
        if values.shape != (5,):
            raise ValueError(f"calibration has shape {values.shape}, expected (5,)")
        return cls(
            float(values[0]),
            check_shape(params, "user_bias", (n_users,)),
            check_shape(params, "movie_bias", (n_movies,)),
            values[1:].copy(),
        )


def fit_calibration(
    train: Ratings, reconstruct: Callable[[Ratings], Reconstruction], seed: int
) -> Calibration:
    """Fit the correction on :data:`HELD_OUT` of ``train`` left out of an inner reconstruction.

    The biases returned are those of all of ``train``; the caller refits its reconstruction on
    all of ``train`` too, so the coefficients meet the same kind of (unseen) cells they were
    fitted on.
    """
    inner = random_split(train, test_fraction=HELD_OUT, seed=seed)
    fitted, held = reconstruct(inner.train), inner.test
    mean = inner.train.mean()
    user_bias, movie_bias = fit_biases(inner.train, mean)
    residual = held.rating - mean - user_bias[held.user_idx] - movie_bias[held.movie_idx]
    design = fitted.features(held.user_idx, held.movie_idx)
    coefficients, *_ = np.linalg.lstsq(design, residual.astype(np.float64), rcond=None)
    level = train.mean()
    return Calibration(level, *fit_biases(train, level), np.asarray(coefficients, np.float64))
