"""Splitting strategies returning :class:`~matinee.data.split.Split` parts that never leak.

Parts never share a rating and keep the id maps of the data they were cut from.

All strategies are vectorised: per-user rules sort once by (user, key) and work on group
offsets, so they run on ml-25m without a Python loop per user. Randomness comes only from
hashes of the seed and the raw ids (:mod:`matinee.data.split_keys`): the same seed gives the
same split, on one machine or in Spark (:mod:`matinee.spark.splits` computes the same keys), and
a rating's part does not depend on row order. Each split logs how many test ratings have a user
or movie unseen in train (:meth:`Split.cold_start`).

:func:`~matinee.data.split_spec.split_from_spec` turns the CLI's ``--split`` text into splits.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import numpy.typing as npt

from matinee.data.filters import top_user_indices
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.data.split_keys import order_by_key, order_prefix, row_keys, user_keys
from matinee.errors import SplitError

__all__ = [
    "hidden_ratings",
    "kfold",
    "per_user_holdout",
    "random_split",
    "temporal_split",
    "user_split",
]

log = logging.getLogger(__name__)

Mask = npt.NDArray[np.bool_]


def _check_fraction(name: str, value: float, *, zero_ok: bool = False) -> None:
    """Raise :class:`SplitError` unless ``value`` is in (0, 1) (or [0, 1) with ``zero_ok``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (value >= 0.0 if zero_ok else value > 0.0) or not value < 1.0:
        interval = "[0, 1)" if zero_ok else "(0, 1)"
        raise SplitError(f"{name} must be a fraction in {interval}, got {value!r}")


def _check_count(name: str, value: int, *, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SplitError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_holdout(n: int | None, fraction: float | None, strategy: str, min_train: int) -> None:
    """Raise :class:`SplitError` unless the arguments of a per-user holdout are valid."""
    if (n is None) == (fraction is None):
        raise SplitError(f"give exactly one of n or fraction, got n={n!r}, fraction={fraction!r}")
    if n is not None:
        _check_count("n", n)
    if fraction is not None:
        _check_fraction("fraction", fraction)
    _check_count("min_train", min_train, low=0)
    if strategy not in ("random", "latest"):
        raise SplitError(f"strategy must be 'random' or 'latest', got {strategy!r}")


def _check_not_empty(ratings: Ratings) -> None:
    if len(ratings) < 2:
        raise SplitError(f"cannot split {len(ratings)} rating(s); at least 2 are needed")


def _finish(split: Split) -> Split:
    """Log the split and its cold-start figures, then return it."""
    log.info("%r; %s", split, split.cold_start())
    return split


def _within_user_rank(
    ratings: Ratings, key: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each row's 0-based position within its user when sorted by ``key``, and user counts.

    Equal keys within a user are ordered by raw movie id, so the rank depends on the data only,
    never on row order (Spark ranks the same way).
    """
    by_key = order_by_key(key, ratings.movies.raw_ids[ratings.movie_idx])
    order = by_key[np.argsort(ratings.user_idx[by_key], kind="stable")]
    counts = ratings.user_counts()
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(ratings), dtype=np.int64)
    rank[order] = np.arange(len(ratings), dtype=np.int64) - starts[ratings.user_idx[order]]
    return rank, counts


def _rating_keys(ratings: Ratings, seed: int) -> npt.NDArray[np.int64]:
    """``xxhash64(seed, user_id, movie_id)`` of every rating."""
    return row_keys(
        seed, ratings.users.raw_ids[ratings.user_idx], ratings.movies.raw_ids[ratings.movie_idx]
    )


def _key_order(ratings: Ratings, seed: int, size: int | None = None) -> npt.NDArray[np.intp]:
    """Row positions ordered by their rating key (ties by raw user id, then raw movie id).

    With ``size``, only the first ``size`` positions of that order (a partial sort).
    """
    user_ids = ratings.users.raw_ids[ratings.user_idx]
    movie_ids = ratings.movies.raw_ids[ratings.movie_idx]
    keys = row_keys(seed, user_ids, movie_ids)
    if size is None:
        return order_by_key(keys, user_ids, movie_ids)
    return order_prefix(keys, size, user_ids, movie_ids)


def _share(fraction: float, total: int) -> int:
    """``fraction`` of ``total``, rounded half up."""
    return int(np.floor(fraction * total + 0.5))


def random_split(
    ratings: Ratings, *, test_fraction: float = 0.2, validation_fraction: float = 0.0, seed: int = 0
) -> Split:
    """Hold out a random share of all ratings as test (and optionally validation).

    Ratings are ordered by their key ``xxhash64(seed, user_id, movie_id)``: test gets the first
    ``round(test_fraction * n)`` ratings, validation the next ``round(validation_fraction * n)``,
    train the rest; each part must be non-empty.
    """
    _check_not_empty(ratings)
    _check_fraction("test_fraction", test_fraction)
    _check_fraction("validation_fraction", validation_fraction, zero_ok=True)
    n = len(ratings)
    n_test = max(1, _share(test_fraction, n))
    n_val = max(1, _share(validation_fraction, n)) if validation_fraction > 0 else 0
    if n_test + n_val >= n:
        raise SplitError(
            f"test_fraction={test_fraction} and validation_fraction={validation_fraction} leave "
            f"no training rating out of {n}"
        )
    order = _key_order(ratings, seed, n_test + n_val)
    part = np.zeros(n, dtype=np.int8)
    part[order[:n_test]] = 1
    part[order[n_test : n_test + n_val]] = 2
    return _finish(
        Split(
            train=ratings.take(part == 0),
            test=ratings.take(part == 1),
            validation=ratings.take(part == 2) if n_val else None,
            name=f"random(test={test_fraction:g}, validation={validation_fraction:g}, seed={seed})",
        )
    )


def kfold(ratings: Ratings, k: int = 5, *, seed: int = 0) -> list[Split]:
    """K-fold cross-validation: the k test folds partition the ratings (sizes differ by <= 1).

    Fold ``i`` holds the ratings at positions ``p`` with ``p * k // n == i`` in rating-key order.
    """
    _check_count("k", k, low=2)
    if len(ratings) < k:
        raise SplitError(f"cannot make {k} folds from {len(ratings)} rating(s)")
    n = len(ratings)
    fold = np.empty(n, dtype=np.int64)
    fold[_key_order(ratings, seed)] = np.arange(n, dtype=np.int64) * k // n
    return [
        _finish(
            Split(
                train=ratings.take(fold != i),
                test=ratings.take(fold == i),
                name=f"kfold(k={k}, fold={i + 1}, seed={seed})",
            )
        )
        for i in range(k)
    ]


def user_split(
    ratings: Ratings, *, test_fraction: float = 0.1, validation_fraction: float = 0.1, seed: int = 0
) -> Split:
    """Partition users into train, validation and test: all ratings of a user go to one part.

    This is the protocol of user-based autoencoders trained on whole users; test users are unseen
    in train, so scoring them needs fold-in (see :func:`hidden_ratings` for that protocol).
    Shares are of the users that have ratings, rounded half up, at least one user per part asked;
    users ordered by ``xxhash64(seed, user_id)`` go to test first, then validation.
    """
    _check_fraction("test_fraction", test_fraction)
    _check_fraction("validation_fraction", validation_fraction, zero_ok=True)
    group = _assign_users(ratings, test_fraction, validation_fraction, seed)
    part = group[ratings.user_idx]
    return _finish(
        Split(
            train=ratings.take(part == 0),
            test=ratings.take(part == 1),
            validation=ratings.take(part == 2) if validation_fraction > 0 else None,
            name=f"user(test={test_fraction:g}, validation={validation_fraction:g}, seed={seed})",
        )
    )


def _assign_users(
    ratings: Ratings,
    test_fraction: float,
    validation_fraction: float,
    seed: int,
    eligible: Mask | None = None,
) -> npt.NDArray[np.int8]:
    """Per user index: 0 train, 1 test, 2 validation; only ``eligible`` users are held out."""
    counts = ratings.user_counts()
    candidates = np.flatnonzero(counts > 0 if eligible is None else eligible & (counts > 0))
    n_test = max(1, _share(test_fraction, candidates.size))
    n_val = max(1, _share(validation_fraction, candidates.size)) if validation_fraction > 0 else 0
    n_train = np.count_nonzero(counts > 0) - n_test - n_val
    if n_test + n_val > candidates.size or n_train < 1:
        raise SplitError(
            f"cannot hold out {n_test} test and {n_val} validation user(s): only "
            f"{candidates.size} eligible of {np.count_nonzero(counts > 0)} users with ratings"
        )
    raw = ratings.users.raw_ids[candidates]
    chosen = candidates[order_by_key(user_keys(seed, raw), raw)]
    group = np.zeros(ratings.n_users, dtype=np.int8)
    group[chosen[:n_test]] = 1
    group[chosen[n_test : n_test + n_val]] = 2
    return group


def per_user_holdout(
    ratings: Ratings,
    *,
    n: int | None = None,
    fraction: float | None = None,
    strategy: Literal["random", "latest"] = "random",
    min_train: int = 1,
    validation: bool = False,
    seed: int = 0,
) -> Split:
    """Hold out ``n`` ratings, or a ``fraction`` of them, from every user.

    Per user with ``c`` ratings, test gets ``min(n, c - min_train)`` ratings (or
    ``min(round(fraction * c), c - min_train)``), so train keeps at least ``min_train`` of them.
    With ``validation``, as many again go to validation, from what is left above ``min_train``.
    ``strategy="random"`` holds out the ratings with the highest keys
    ``xxhash64(seed, user_id, movie_id)``; ``"latest"`` the latest by timestamp, equal times by
    raw movie id (test the very latest, validation the ones before), so every held-out time is at
    least every train time of that user. Users with ``min_train`` ratings or fewer stay whole in
    train (logged).
    """
    _check_holdout(n, fraction, strategy, min_train)
    _check_not_empty(ratings)
    key = ratings.timestamp if strategy == "latest" else _rating_keys(ratings, seed)
    rank, counts = _within_user_rank(ratings, key)
    spare = np.maximum(counts - min_train, 0)
    if n is not None:
        wanted = np.full_like(counts, n)
    else:
        wanted = np.floor(float(fraction or 0.0) * counts + 0.5).astype(np.int64)
    n_test = np.minimum(wanted, spare)
    n_val = np.minimum(n_test, spare - n_test) if validation else np.zeros_like(n_test)
    if not n_test.any():
        raise SplitError(f"no user has more than min_train={min_train} rating(s) to hold out")
    short = int(np.count_nonzero((counts > 0) & (spare == 0)))
    if short:
        log.info("%d user(s) with <= %d rating(s) kept whole in train", short, min_train)
    from_end = counts[ratings.user_idx] - rank
    is_test = from_end <= n_test[ratings.user_idx]
    is_val = ~is_test & (from_end <= (n_test + n_val)[ratings.user_idx])
    amount = f"n={n}" if n is not None else f"fraction={fraction:g}"
    return _finish(
        Split(
            train=ratings.take(~is_test & ~is_val),
            test=ratings.take(is_test),
            validation=ratings.take(is_val) if validation else None,
            name=f"per-user({amount}, {strategy}, min_train={min_train}, seed={seed})",
        )
    )


def temporal_split(
    ratings: Ratings, *, cutoff: int | None = None, test_fraction: float | None = None
) -> Split:
    """Split at one global time: train is before ``cutoff``, test at or after it.

    Give the cut-off as a Unix timestamp, or as ``test_fraction``: the cut-off is then the time of
    the ``round(test_fraction * n)``-th latest rating, so test holds at least that share (more
    when ratings share that timestamp).
    """
    if (cutoff is None) == (test_fraction is None):
        raise SplitError(
            f"give exactly one of cutoff or test_fraction, got {cutoff=!r}, {test_fraction=!r}"
        )
    _check_not_empty(ratings)
    if test_fraction is not None:
        _check_fraction("test_fraction", test_fraction)
        n_test = max(1, _share(test_fraction, len(ratings)))
        cutoff = int(np.partition(ratings.timestamp, len(ratings) - n_test)[len(ratings) - n_test])
    assert cutoff is not None
    is_test = ratings.timestamp >= cutoff
    if is_test.all() or not is_test.any():
        raise SplitError(
            f"cutoff {cutoff} leaves an empty part: ratings span "
            f"{int(ratings.timestamp.min())} .. {int(ratings.timestamp.max())}"
        )
    return _finish(
        Split(
            train=ratings.take(~is_test),
            test=ratings.take(is_test),
            name=f"temporal(cutoff={cutoff})",
        )
    )


def hidden_ratings(
    ratings: Ratings,
    *,
    test_users: float = 0.1,
    validation_users: float = 0.0,
    hidden_fraction: float = 0.2,
    top_users: int | None = None,
    seed: int = 0,
) -> Split:
    """Hide part of the ratings of held-out users: models fold in the rest and predict them.

    This is the AutoRec notebook protocol. Steps:

    1. With ``top_users``, keep only the ratings of the ``top_users`` most active users and
       compact the id maps (the split's maps are those of the restricted data).
    2. Partition the users with at least two ratings: a ``test_users`` share become test users,
       a ``validation_users`` share validation users, the rest (and every user with one rating)
       training users.
    3. For each held-out user hide ``round(hidden_fraction * c)`` of their ``c`` ratings at
       random (lowest keys ``xxhash64(seed, user_id, movie_id)``), at least one and at most
       ``c - 1``.

    Parts: ``train`` = all ratings of training users plus the visible ratings of validation
    users; ``fold_in`` = the visible ratings of test users; ``test`` = the hidden ratings of
    test users; ``validation`` = the hidden ratings of validation users (None when
    ``validation_users`` is 0). Test users have no rating in train.
    """
    _check_fraction("test_users", test_users)
    _check_fraction("validation_users", validation_users, zero_ok=True)
    _check_fraction("hidden_fraction", hidden_fraction)
    if top_users is not None:
        _check_count("top_users", top_users)
        keep = np.zeros(ratings.n_users, dtype=bool)
        keep[top_user_indices(ratings, top_users)] = True
        ratings = ratings.take(keep[ratings.user_idx]).compact()
    _check_not_empty(ratings)
    counts = ratings.user_counts()
    group = _assign_users(ratings, test_users, validation_users, seed, eligible=counts >= 2)
    rank, counts = _within_user_rank(ratings, _rating_keys(ratings, seed))
    n_hidden = np.clip(np.floor(hidden_fraction * counts + 0.5), 1, np.maximum(counts - 1, 1))
    row_group = group[ratings.user_idx]
    hidden = (row_group > 0) & (rank < n_hidden[ratings.user_idx])
    name = (
        f"hidden-ratings(users={test_users:g}, validation={validation_users:g}, "
        f"hidden={hidden_fraction:g}, top={top_users}, seed={seed})"
    )
    return _finish(
        Split(
            train=ratings.take((row_group == 0) | ((row_group == 2) & ~hidden)),
            test=ratings.take((row_group == 1) & hidden),
            validation=ratings.take((row_group == 2) & hidden) if validation_users > 0 else None,
            fold_in=ratings.take((row_group == 1) & ~hidden),
            name=name,
        )
    )
