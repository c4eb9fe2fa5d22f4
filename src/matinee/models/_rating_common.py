"""Helpers shared by the rating models: RMSE, CSR layout, ridge fold-in, snapshots, biases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.errors import ModelFitError
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.training.loop import ArrayTrainer
from matinee.types import IndexArray

__all__ = [
    "ArraySnapshot",
    "LearnedBiases",
    "RatingTrainer",
    "by_user_csr",
    "check_finite",
    "check_shape",
    "check_shape_f64",
    "clipped_rmse",
    "ridge_fold_in",
]

ArraySnapshot = dict[str, npt.NDArray[np.float32]]
"""Copies of a trainer's weight arrays, by name."""

C = TypeVar("C")
M = TypeVar("M", bound=Config)


class RatingTrainer(ArrayTrainer, Generic[C]):
    """An array trainer of a rating model: its config, validation set, rating scale and mean.

    Every rating model's epoch trainer starts from these four; the mean is the one its
    predictions add (0.0 for a model without biases). A subclass supplies :meth:`predict`; the
    validation RMSE, clipped to the scale, is made from it here.
    """

    def __init__(self, config: C, train: Ratings, validation: Ratings | None, mean: float) -> None:
        self.config, self.validation = config, validation
        self.scale, self.mean = train.rating_scale, mean

    def predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """Predicted ratings of (user, movie) index pairs, as the weights stand."""
        raise NotImplementedError(f"{type(self).__name__} does not predict")

    def validation_loss(self) -> float | None:
        """RMSE of the clipped predictions on the validation ratings (None without them)."""
        if self.validation is None:
            return None
        data = self.validation
        return clipped_rmse(self.predict(data.user_idx, data.movie_idx), data.rating, self.scale)


class LearnedBiases(Recommender[M]):
    """A model that learns ``b_u`` and ``b_i``: gives out, saves and loads them by one name each."""

    user_bias_: npt.NDArray[np.float32]
    movie_bias_: npt.NDArray[np.float32]

    def movie_biases(self) -> npt.NDArray[np.floating[Any]] | None:
        """Each movie's bias ``b_i``."""
        return self.movie_bias_

    def _bias_arrays(self) -> dict[str, np.ndarray]:
        """``b_u`` and ``b_i`` by their saved names."""
        return {"user_bias": self.user_bias_, "movie_bias": self.movie_bias_}

    def _load_bias_arrays(self, params: Mapping[str, np.ndarray]) -> None:
        """Set ``b_u`` and ``b_i`` from saved arrays, checking their shapes."""
        self.user_bias_ = check_shape(params, "user_bias", (self.n_users,))
        self.movie_bias_ = check_shape(params, "movie_bias", (self.n_movies,))


def clipped_rmse(
    predicted: npt.NDArray[np.floating], actual: npt.ArrayLike, scale: tuple[float, float]
) -> float:
    """RMSE of predictions clipped to the rating scale (what ``predict`` would return)."""
    clipped = np.clip(np.asarray(predicted, dtype=np.float64), scale[0], scale[1])
    errors = clipped - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(errors * errors))) if errors.size else 0.0


def by_user_csr(
    ratings: Ratings, *, movies_first: bool = False
) -> tuple[npt.NDArray[np.int64], IndexArray, npt.NDArray[np.float32]]:
    """``(indptr, columns, values)`` of the ratings grouped by user (or by movie)."""
    rows, columns = ratings.user_idx, ratings.movie_idx
    n_rows = ratings.n_users
    if movies_first:
        rows, columns, n_rows = columns, rows, ratings.n_movies
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return (
        indptr,
        np.ascontiguousarray(columns[order], dtype=np.int32),
        np.ascontiguousarray(ratings.rating[order], dtype=np.float32),
    )


def ridge_fold_in(
    features: npt.NDArray[np.floating],
    targets: npt.NDArray[np.floating],
    penalties: npt.NDArray[np.floating],
) -> npt.NDArray[np.float64]:
    """Solve ``min ||features @ x - targets||^2 + sum(penalties * x^2)`` in closed form.

    The primal solution is ``(F^T F + P)^-1 F^T t``. With fewer rows than columns and every
    penalty positive, the same ``x`` comes from the dual ``P^-1 F^T (F P^-1 F^T + I)^-1 t``, a
    rows x rows system: a new user with 10 ratings of a 64-factor model solves 10 x 10, not
    65 x 65 (the two agree to rounding; ``tests/models/test_ridge_fold_in.py``).
    """
    x = np.asarray(features, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    p = np.asarray(penalties, dtype=np.float64)
    rows = x.shape[0]
    if rows < x.shape[1] and p.size and p.min() > 0:
        scaled = x / p
        kernel = scaled @ x.T
        kernel.flat[:: rows + 1] += 1.0  # the diagonal
        return np.asarray(scaled.T @ np.linalg.solve(kernel, t), dtype=np.float64)
    gram = x.T @ x + np.diag(p)
    return np.asarray(np.linalg.solve(gram, x.T @ t), dtype=np.float64)


def check_shape(
    params: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]
) -> npt.NDArray[np.float32]:
    """The named parameter as float32, or ValueError naming it if its shape is not ``shape``."""
    return np.ascontiguousarray(_shaped(params, name, shape), dtype=np.float32)


def check_shape_f64(
    params: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]
) -> npt.NDArray[np.float64]:
    """:func:`check_shape` in float64 (for saved means and coefficients)."""
    return np.ascontiguousarray(_shaped(params, name, shape), dtype=np.float64)


def _shaped(params: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    value = np.asarray(params[name])
    if value.shape != shape:
        raise ValueError(f"{name} has shape {value.shape}, expected {shape}")
    return value


def check_finite(name: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Raise :class:`ModelFitError` if any weight array holds NaN or infinity."""
    for key, value in arrays.items():
        if not np.all(np.isfinite(value)):
            raise ModelFitError(
                f"{name}: {key} became NaN or infinite during training; "
                "lower the learning rate or raise the regularization"
            )
