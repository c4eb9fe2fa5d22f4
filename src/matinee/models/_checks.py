"""Input checks of :class:`~matinee.models.base.Recommender`: indices, new users, fit data.

Kept apart from the interface so that ``base`` reads as the contract; each check raises from
the matinee error tree, naming what is wrong.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError, UnknownIdError
from matinee.types import IndexArray, RatingArray

__all__ = ["check_fit_input", "check_indices", "check_new_user", "check_new_users"]


def check_indices(values: npt.ArrayLike, size: int, kind: str) -> IndexArray:
    """``values`` as int32 indices below ``size`` (ConfigError, UnknownIdError if not)."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ConfigError(f"{kind} indices must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False).ravel()
    if array.size and (array.min() < 0 or array.max() >= size):
        bad = (array < 0) | (array >= size)
        raise UnknownIdError(f"{kind} index", list(dict.fromkeys(array[bad].tolist())))
    return array.astype(np.int32)


def _check_scale(values: npt.NDArray[np.float32], scale: tuple[float, float]) -> None:
    """DataError unless every value is finite and inside the rating scale."""
    low, high = scale
    if values.size and not (low <= values.min() and values.max() <= high):  # NaN fails too
        raise DataError(f"new-user ratings must lie in the rating scale {low}-{high}")


def check_new_user(
    movies: npt.ArrayLike, ratings: npt.ArrayLike, n_movies: int, scale: tuple[float, float]
) -> tuple[IndexArray, RatingArray]:
    """A new user's movie indices and ratings, checked: one rating per movie, on the scale."""
    movie_idx = check_indices(movies, n_movies, "movie")
    values = np.asarray(ratings, dtype=np.float32).ravel()
    if movie_idx.size == 0:
        raise DataError("a new user needs at least one rated movie")
    if values.shape != movie_idx.shape:
        raise DataError(f"got {movie_idx.size} movies but {values.size} ratings")
    _check_scale(values, scale)
    if len(set(movie_idx.tolist())) != movie_idx.size:  # a set: far cheaper than np.unique here
        raise DataError("a new user rated the same movie twice")
    return movie_idx, values


def check_new_users(
    rows: sp.csr_matrix | sp.csr_array, n_movies: int, scale: tuple[float, float]
) -> sp.csr_matrix:
    """``rows`` as canonical float32 CSR, each row a valid new user (else DataError)."""
    matrix = sp.csr_matrix(rows, dtype=np.float32)
    if matrix.shape[1] != n_movies:
        raise DataError(f"new users need {n_movies} movie columns, got {matrix.shape[1]}")
    if not matrix.has_canonical_format:
        raise DataError("a new user rated the same movie twice")
    if matrix.shape[0] and np.diff(matrix.indptr).min() == 0:
        raise DataError("a new user needs at least one rated movie")
    _check_scale(matrix.data, scale)
    return matrix


def check_fit_input(train: Ratings, validation: Ratings | None) -> None:
    """Refuse what ``fit`` cannot learn from, before anything changes."""
    if not isinstance(train, Ratings):
        raise DataError(f"fit takes Ratings, got {type(train).__name__}")
    if len(train) == 0:
        raise DataError("cannot fit on an empty training set")
    if validation is not None and not isinstance(validation, Ratings):
        raise DataError(f"fit: validation must be Ratings or None, got {type(validation).__name__}")
    if validation is not None and (
        validation.users != train.users or validation.movies != train.movies
    ):
        raise DataError("validation ratings must share the id maps of the training ratings")
    if not np.all(np.isfinite(train.rating)):
        raise DataError("training ratings contain NaN or infinite values")
