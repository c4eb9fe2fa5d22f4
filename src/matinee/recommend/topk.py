"""Top-k lists for known users (in batches) and for new users folded in from a few ratings.

Every model goes through the same path: the model gives every movie a list score
(``rank_users`` / ``rank_new_user``), filters and the movies a person already rated are taken
out, and :func:`matinee.evaluation.ranking_metrics.top_k` picks the best ``k``. A rated movie
never comes back. For rating models a ``rating`` column beside ``score`` holds the predicted
rating (``predict``'s, clipped to the scale): the list score orders, the rating informs.

Given the movies table, lists are calibrated to the person's taste (``calibration``, Steck's
greedy of :mod:`matinee.calibration`): the ``k`` films are picked from the model's best
``pool`` so that the list's genres follow those of the films the person rated. The ``score``
column still holds the model's score, so a calibrated list is not sorted by it. A strength is
a number in [0, 1] or ``"auto"``, one per person: strong for someone whose rated films are far
from the catalogue's genre mix (one taste), none for a mixed taste. The default
strength for new users (:data:`~matinee.calibration.NEW_USER_STRENGTH`) and for known users
(:data:`~matinee.calibration.KNOWN_USER_STRENGTH`) were chosen on NDCG@10 and taste (README,
"New users"). Without a movies table (no genres) lists are the model's own order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from matinee.calibration import (
    KNOWN_USER_STRENGTH,
    NEW_USER_STRENGTH,
    Calibration,
    Strength,
    calibrate_block,
    check_strength,
    genre_weights,
)
from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError, NotFittedError
from matinee.models.base import Recommender
from matinee.ranking import check_k, flat_top, mask_disallowed, select_top
from matinee.recommend.filters import MovieFilter, RatingCounts, allowed_movies

__all__ = ["DEFAULT_BATCH", "rated_matrix", "recommend", "recommend_new_user", "with_movie_info"]

DEFAULT_BATCH = 256
"""Users scored at once: bounds memory at ``batch x n_movies`` float32 scores."""

AnyModel = Recommender[Any]


def recommend(
    model: AnyModel,
    users: Sequence[int] | npt.ArrayLike,
    k: int = 10,
    *,
    exclude_rated: Ratings | None = None,
    movie_filter: MovieFilter | None = None,
    movies: pl.DataFrame | None = None,
    rating_counts: RatingCounts | None = None,
    batch_size: int = DEFAULT_BATCH,
    calibration: Strength | None = None,
) -> pl.DataFrame:
    """The top ``k`` movies for each known user, as rows ``user_id, rank, movie_id, score``.

    Lists come in the order of ``users``, one per mention (a repeated id gets its list again).

    Args:
        model: A fitted model.
        users: Raw user ids the model was trained on.
        k: Movies per user (fewer when filters leave fewer).
        exclude_rated: Ratings whose movies each user must not get back (the training data).
        movie_filter: Genres, years, candidates or a minimum count of ratings.
        movies: The movies table; adds ``title``, ``year`` and ``genres`` and enables genre and
            year filters.
        rating_counts: Training ratings (or counts per movie index) for ``min_ratings``.
        batch_size: Users scored at once.
        calibration: Strength in [0, 1] or ``"auto"`` of the calibration to each user's
            taste (their ``exclude_rated`` films' genres; needs ``movies``); None: the
            known-user default.

    Raises:
        UnknownIdError: user ids the model does not know (all of them are listed).
        ConfigError: a bad ``k``, batch size or calibration strength.
    """
    check_k(k)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    user_map = fitted_users(model)
    raw_users = raw_id_array(users, "users")
    user_idx = user_map.indices(raw_users)
    allowed = allowed_movies(
        fitted_movies(model), movie_filter, movies=movies, rating_counts=rating_counts
    )
    rated = rated_matrix(model, exclude_rated) if exclude_rated is not None else None
    strength = KNOWN_USER_STRENGTH if calibration is None else check_strength(calibration)
    genres = genre_weights(movies, fitted_movies(model)) if strength and rated is not None else None
    frames = []
    for start in range(0, user_idx.size, batch_size):
        batch = user_idx[start : start + batch_size]
        scores = model.rank_users(batch)
        exclude = rated[batch] if rated is not None else None
        rows, movie_idx, values = _select(scores, k, exclude, allowed, genres, strength)
        frame = _frame(model, raw_users[start + rows], rows, movie_idx, values)
        if model.predicts_ratings:
            frame = _with_rating(frame, model.predict(batch[rows], movie_idx))
        frames.append(frame)
    if not frames:
        frames.append(_frame(model, np.empty(0, np.int64), *_empty()))
        if model.predicts_ratings:
            frames[0] = _with_rating(frames[0], np.empty(0, np.float32))
    result = pl.concat(frames)
    return with_movie_info(result, movies)


def recommend_new_user(
    model: AnyModel,
    rated: Mapping[int, float],
    k: int = 10,
    *,
    movie_filter: MovieFilter | None = None,
    movies: pl.DataFrame | None = None,
    rating_counts: RatingCounts | None = None,
    calibration: Strength | None = None,
) -> pl.DataFrame:
    """The top ``k`` movies for someone who rated a few movies (``{movie_id: rating}``).

    The model folds the person in its own way (see each model's ``score_new_user``); the movies
    they rated never come back. With ``movies`` the list is calibrated to the genres of the
    rated films with strength ``calibration`` in [0, 1] or ``"auto"`` (per person, see
    :class:`~matinee.calibration.AutoStrength`; None: the new-user default; 0: the
    model's order). Rows: ``rank, movie_id, score`` (plus movie info).

    Raises:
        DataError: no ratings, ratings off the model's scale, or a wrong type.
        UnknownIdError: movie ids the model does not know (all of them are listed).
        ConfigError: a bad ``k`` or calibration strength.
    """
    check_k(k)
    strength = NEW_USER_STRENGTH if calibration is None else check_strength(calibration)
    movie_map = fitted_movies(model)
    movie_idx, values = _parse_rated(model, rated)
    scores = model.rank_new_user(movie_idx, values)[np.newaxis, :]
    exclude = sp.csr_matrix(
        (values[np.argsort(movie_idx)], np.sort(movie_idx), [0, movie_idx.size]),
        shape=(1, len(movie_map)),
    )
    allowed = allowed_movies(movie_map, movie_filter, movies=movies, rating_counts=rating_counts)
    genres = genre_weights(movies, movie_map) if strength else None
    _, chosen, chosen_scores = _select(scores, k, exclude, allowed, genres, strength)
    result = _frame(model, None, np.zeros(chosen.size, np.int64), chosen, chosen_scores)
    if model.predicts_ratings:
        low, high = model.rating_scale_
        predicted = np.clip(model.score_new_user(movie_idx, values)[chosen], low, high)
        result = _with_rating(result, predicted)
    return with_movie_info(result, movies)


def _select(
    scores: npt.NDArray[np.floating[Any]],
    k: int,
    rated: sp.csr_matrix | None,
    allowed: npt.NDArray[np.bool_] | None,
    genres: npt.NDArray[np.float64] | None,
    strength: Strength,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """:func:`select_top`'s flat (row, movie, score), calibrated to ``rated`` given ``genres``."""
    if genres is None or rated is None:
        return select_top(scores, k, rated, allowed)
    scores = mask_disallowed(scores, allowed)
    return flat_top(scores, calibrate_block(scores, rated, genres, k, Calibration(strength)))


def rated_matrix(model: AnyModel, ratings: Ratings) -> sp.csr_matrix:
    """Users x movies CSR of ratings, in the model's index space, of what ``ratings`` holds."""
    return ratings.matrix_on(fitted_users(model), fitted_movies(model))


def fitted_users(model: AnyModel) -> IdMap:
    """The model's user id map; :class:`NotFittedError` before ``fit``."""
    if model.users_ is None:
        raise NotFittedError(f"{type(model).__name__} is not fitted; call fit first")
    return model.users_


def fitted_movies(model: AnyModel) -> IdMap:
    """The model's movie id map; :class:`NotFittedError` before ``fit``."""
    if model.movies_ is None:
        raise NotFittedError(f"{type(model).__name__} is not fitted; call fit first")
    return model.movies_


def with_movie_info(frame: pl.DataFrame, movies: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``title``, ``year`` and ``genres`` from the movies table, keeping the row order."""
    if movies is None:
        return frame
    columns = [name for name in ("movie_id", "title", "year", "genres") if name in movies.columns]
    info = movies.select(columns).unique(subset="movie_id", keep="first")
    return frame.join(info, on="movie_id", how="left", maintain_order="left")


def raw_id_array(values: object, what: str) -> npt.NDArray[np.int64]:
    """Raw ids given by a caller as a flat int64 array; strings, floats and booleans refused."""
    if isinstance(values, str | bytes):
        raise ConfigError(f"{what} must be integer ids, got the string {values!r}")
    array = np.asarray(values)
    if array.size and array.dtype.kind not in "iu":
        raise ConfigError(f"{what} must be integer ids, got {array.dtype} values")
    return array.astype(np.int64).ravel()


def _parse_rated(
    model: AnyModel, rated: Mapping[int, float]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    if not isinstance(rated, Mapping):
        raise DataError(f"rated movies must be a mapping movie_id -> rating, got {type(rated)}")
    if not rated:
        raise DataError("a new user needs at least one rated movie")
    bad_keys = [
        key for key in rated if isinstance(key, bool) or not isinstance(key, int | np.integer)
    ]
    if bad_keys:
        raise DataError(f"movie ids must be integers, got {bad_keys[:10]}")
    try:
        values = np.array([float(value) for value in rated.values()], dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError(f"ratings must be numbers, got {list(rated.values())[:10]}") from None
    movie_idx = fitted_movies(model).indices([int(key) for key in rated])
    return movie_idx, values


def _with_rating(frame: pl.DataFrame, ratings: npt.NDArray[np.floating[Any]]) -> pl.DataFrame:
    """``frame`` with the predicted ``rating`` of each row (on the scale) after ``score``."""
    return frame.with_columns(pl.Series("rating", ratings, dtype=pl.Float32))


def _empty() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float32)


def _frame(
    model: AnyModel,
    user_ids: npt.NDArray[np.int64] | None,
    rows: npt.NDArray[np.int64],
    movie_idx: npt.NDArray[np.int32],
    scores: npt.NDArray[np.float32],
) -> pl.DataFrame:
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1] if rows.size else np.empty(0, np.int64)
    rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.r_[starts, rows.size]))
    columns: dict[str, Any] = {}
    if user_ids is not None:
        columns["user_id"] = pl.Series(user_ids, dtype=pl.Int64)
    columns["rank"] = pl.Series(rank + 1, dtype=pl.Int32)
    columns["movie_id"] = pl.Series(fitted_movies(model).raw(movie_idx), dtype=pl.Int64)
    columns["score"] = pl.Series(scores, dtype=pl.Float32)
    return pl.DataFrame(columns)
