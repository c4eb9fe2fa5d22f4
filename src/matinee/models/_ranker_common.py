"""Shared pieces of the top-k rankers: their config, the interaction matrix, packing of CSR.

Rankers learn from implicit feedback: which movies a person rated (optionally only the ones they
rated at or above a threshold), not the rating values. Their scores order movies; they are not
ratings.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.models.config import Config, setting
from matinee.types import IndexArray, RatingArray

__all__ = [
    "FoldInConfig",
    "RankerConfig",
    "damp_popularity",
    "fold_in_columns",
    "fold_in_row",
    "fold_in_weights",
    "interactions",
    "known_movie_counts",
    "movie_counts",
    "session_rows",
    "weighted_fold_in",
    "weighted_fold_in_row",
]


@dataclass(frozen=True, kw_only=True)
class RankerConfig(Config):
    """Hyperparameters shared by every ranker."""

    positive_threshold: float | None = None
    """Ratings at or above this value count as positives; None counts every rating (any rating
    means the person watched the movie)."""


@dataclass(frozen=True, kw_only=True)
class FoldInConfig(RankerConfig):
    """How a ranker orders a new user's list (``rank_new_user``); its fit is not affected.

    Measured on the new-user protocol (``hidden-ratings:users=0.2,hidden=0.5``, ml-100k seed 0,
    NDCG@10), weighting a new user's ratings by how much they liked the movie lifts every
    item-item ranker and iALS (EASE 0.459 to 0.491, RP3beta 0.390 to 0.408, item-kNN 0.393 to
    0.419, iALS 0.406 to 0.438); that margin pays for a popularity damping that makes lists
    of people with one taste follow it (``benchmarks/results/new_users.md``).
    """

    liked_rating: float = 3.5
    """A new user's ratings at or above this count fully (1.0) in their fold-in row."""

    unliked_weight: float = setting(0.25, low=0.0, high=1.0)
    """Weight in the fold-in row of a rating below ``liked_rating``: the person saw the movie
    (so it still says something of their taste) but did not like it."""

    rank_popularity_exponent: float = setting(0.0, low=0.0, high=1.0)
    """A new user's list scores are divided by (the movie's training count + 1) to this power.
    A handful of ratings of one kind co-occur in training with the most watched movies of every
    kind, which then lead the list; the damping asks how much more this person points to a movie
    than everyone does."""


def _positive(ratings: npt.NDArray[np.floating], threshold: float | None) -> npt.NDArray[np.bool_]:
    if threshold is None:
        return np.ones(ratings.shape, dtype=bool)
    return np.asarray(ratings >= threshold)


def interactions(train: Ratings, threshold: float | None) -> sp.csr_matrix:
    """Users x movies CSR of 1.0 where a user rated a movie (at or above ``threshold``)."""
    keep = _positive(train.rating, threshold)
    matrix = sp.csr_matrix(
        (
            np.ones(int(keep.sum()), dtype=np.float32),
            (train.user_idx[keep], train.movie_idx[keep]),
        ),
        shape=(train.n_users, train.n_movies),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def session_rows(train: Ratings, threshold: float | None, window: int) -> sp.csr_matrix:
    """One row per positive rating: the movies its user rated within ``window`` places of it.

    Each user's positives are put in time order (ties by movie index); row ``r`` holds 1.0 at the
    movies of the ratings ``r - window .. r + window`` of the same user, its own movie included.
    Rows follow that order, users by index. ``window`` = 0 gives each rating its own movie only.
    """
    keep = _positive(train.rating, threshold)
    users, movies = train.user_idx[keep], train.movie_idx[keep]
    order = np.lexsort((movies, train.timestamp[keep], users))
    users, movies = users[order], movies[order]
    n_rows = users.size
    rows, columns = [], []
    for offset in range(-window, window + 1):
        source = np.arange(max(0, -offset), min(n_rows, n_rows - offset))
        partner = source + offset
        same_user = users[source] == users[partner]
        rows.append(source[same_user])
        columns.append(movies[partner[same_user]])
    row_index = np.concatenate(rows)
    matrix = sp.csr_matrix(
        (
            np.ones(row_index.size, dtype=np.float32),
            (row_index, np.concatenate(columns)),
        ),
        shape=(n_rows, train.n_movies),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def fold_in_columns(
    movies: IndexArray, ratings: RatingArray, threshold: float | None
) -> npt.NDArray[np.int32]:
    """The movies a new user's row holds (rated at or above ``threshold``), ascending."""
    return np.sort(movies[_positive(ratings, threshold)]).astype(np.int32)


def fold_in_row(
    n_movies: int, movies: IndexArray, ratings: RatingArray, threshold: float | None
) -> sp.csr_matrix:
    """A 1 x movies CSR row for a new user, built the way :func:`interactions` builds a user."""
    columns = fold_in_columns(movies, ratings, threshold)
    return sp.csr_matrix(
        (
            np.ones(columns.size, dtype=np.float32),
            columns,
            np.array([0, columns.size], dtype=np.int32),
        ),
        shape=(1, n_movies),
    )


def fold_in_weights(ratings: RatingArray, config: FoldInConfig) -> npt.NDArray[np.float32]:
    """Each kept rating's weight in a new user's row: 1 when liked, ``unliked_weight`` if not."""
    liked = np.asarray(ratings) >= config.liked_rating
    return np.where(liked, 1.0, config.unliked_weight).astype(np.float32)


def weighted_fold_in(
    movies: IndexArray, ratings: RatingArray, config: FoldInConfig
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """The columns (ascending) and :func:`fold_in_weights` of a new user's weighted row."""
    keep = _positive(ratings, config.positive_threshold)
    order = np.argsort(movies[keep], kind="stable")
    columns = movies[keep][order].astype(np.int32)
    return columns, fold_in_weights(ratings[keep][order], config)


def weighted_fold_in_row(
    n_movies: int, movies: IndexArray, ratings: RatingArray, config: FoldInConfig
) -> sp.csr_matrix:
    """A new user's 1 x movies CSR row (as :func:`fold_in_row`) holding :func:`fold_in_weights`."""
    columns, values = weighted_fold_in(movies, ratings, config)
    return sp.csr_matrix(
        (values, columns, np.array([0, columns.size], dtype=np.int32)), shape=(1, n_movies)
    )


def movie_counts(user_items: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """How many training users each movie has in a users x movies interaction matrix."""
    counts = np.bincount(user_items.indices, minlength=user_items.shape[1])
    return counts.astype(np.float64)


_COUNTS: dict[int, npt.NDArray[np.float64]] = {}
"""``id`` of a live interaction matrix -> its :func:`movie_counts` (dropped with the matrix)."""


def known_movie_counts(user_items: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """:func:`movie_counts`, worked out once per fitted matrix.

    Every new-user list needs the counts, and at 25M ratings counting costs more than the list.
    """
    key = id(user_items)
    counts = _COUNTS.get(key)
    if counts is None:
        counts = _COUNTS[key] = movie_counts(user_items)
        weakref.finalize(user_items, _COUNTS.pop, key, None)
    return counts


_DIVISORS: dict[tuple[int, float], npt.NDArray[np.float64]] = {}
"""(``id`` of a live counts array, exponent) -> ``(counts + 1) ** exponent``."""


def damp_popularity(
    scores: npt.ArrayLike, counts: npt.NDArray[np.float64], exponent: float
) -> npt.NDArray[np.float64]:
    """``scores / (counts + 1) ** exponent``, the scores unchanged when ``exponent`` is 0.

    The divisor is worked out once per ``counts`` array and exponent (a power of every movie's
    count costs more than the rest of a new user's list), so ``counts`` must not change.
    """
    values = np.asarray(scores, dtype=np.float64).ravel()
    if exponent == 0.0:
        return values
    key = (id(counts), exponent)
    divisor = _DIVISORS.get(key)
    if divisor is None:
        divisor = _DIVISORS[key] = (counts + 1.0) ** exponent
        weakref.finalize(counts, _DIVISORS.pop, key, None)
    damped: npt.NDArray[np.float64] = values / divisor
    return damped


NEIGHBOUR_BLOCK = 1024
"""Source movies scored at once when building movie-movie weights (one dense slab in memory)."""


def top_neighbours(
    block_scores: Callable[[int, int], npt.NDArray[np.float64]], n_movies: int, neighbours: int
) -> sp.csr_matrix:
    """Movies x movies CSR keeping, per row, the ``neighbours`` largest positive scores.

    ``block_scores(start, stop)`` returns the dense scores of source movies ``start:stop``
    against every movie; rows are built block by block so that memory stays at one slab, and a
    movie is never its own neighbour.
    """
    keep = min(neighbours, max(n_movies - 1, 1))
    rows, columns, values = [], [], []
    for start in range(0, n_movies, NEIGHBOUR_BLOCK):
        stop = min(start + NEIGHBOUR_BLOCK, n_movies)
        block = block_scores(start, stop)
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        top_values = np.take_along_axis(block, top, axis=1)
        positive = top_values > 0
        rows.append(np.nonzero(positive)[0] + start)
        columns.append(top[positive])
        values.append(top_values[positive])
    matrix = sp.csr_matrix(
        (
            np.concatenate(values).astype(np.float32),
            (np.concatenate(rows), np.concatenate(columns)),
        ),
        shape=(n_movies, n_movies),
    )
    matrix.sort_indices()
    return matrix
