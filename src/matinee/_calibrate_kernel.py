"""The compiled greedy of :mod:`matinee.calibration` (Steck, RecSys 2018): one list per row.

Each row picks ``k`` films from its candidate pool, one at a time, taking the candidate that
maximises ``(1 - lam) * relevance - lam * KL(p || q~)`` of the list so far plus itself, where
``q~ = (1 - alpha) * q + alpha * p`` and ``q`` is the genre distribution of the list. A step costs
``pool x genres``; rows run in parallel (:func:`calibrate_rows`, each row with its own ``lam``:
an adaptive strength differs per person) or in the calling thread (:func:`calibrate_one_row`, a
request's list). A row of strength 0 keeps the pool's order and costs no greedy.
"""

from __future__ import annotations

import numba
import numpy as np

import matinee._openmp  # noqa: F401  (GOMP_SPINCOUNT, read when numba's OpenMP loads)

__all__ = ["calibrate_one_row", "calibrate_rows"]


@numba.njit(nogil=True, cache=True)
def _term(p: float, mass: float, total: float, alpha: float) -> float:
    """One genre's term of KL(p || q~): ``p log(p / q~)`` of a list with that genre mass."""
    share = mass / total if total > 0.0 else 0.0
    value: float = p * np.log(p / ((1.0 - alpha) * share + alpha * p))
    return value


@numba.njit(nogil=True, cache=True)
def _kl(p: np.ndarray, mass: np.ndarray, total: float, alpha: float) -> float:
    """KL(p || q~) of a list whose genre mass is ``mass`` (summing to ``total``)."""
    value = 0.0
    for genre in range(p.size):
        if p[genre] > 0.0:
            value += _term(p[genre], mass[genre], total, alpha)
    return value


@numba.njit(nogil=True, cache=True)
def _candidate_kl(
    p: np.ndarray,
    mass: np.ndarray,
    total: float,
    weights: np.ndarray,
    base: np.ndarray,
    base_kl: float,
    alpha: float,
) -> float:
    """KL of the list plus one film of genre ``weights``, from the terms without it.

    ``base`` holds each genre's term at the list's mass over ``total + 1`` (a film's weights
    sum to 1), so only the film's own genres are computed again; a film without genres (or
    whose weights do not sum to 1) gets the whole sum.
    """
    extra = weights.sum()
    if abs(extra - 1.0) > 1e-6:
        trial = mass + weights
        return _kl(p, trial, total + extra, alpha)
    value = base_kl
    for genre in range(p.size):
        if weights[genre] > 0.0 and p[genre] > 0.0:
            value += _term(p[genre], mass[genre] + weights[genre], total + 1.0, alpha)
            value -= base[genre]
    return value


@numba.njit(nogil=True, cache=True)
def _pool_head(pool: np.ndarray, k: int, out: np.ndarray) -> None:
    """The pool's first ``k`` entries (its order is the model's), skipping ``-1`` pads."""
    slot = 0
    for j in range(pool.size):
        if slot == k:
            return
        if pool[j] >= 0:
            out[slot] = pool[j]
            slot += 1


@numba.njit(nogil=True, cache=True)
def _greedy_row(
    pool: np.ndarray,
    relevance: np.ndarray,
    genres: np.ndarray,
    p: np.ndarray,
    k: int,
    lam: float,
    alpha: float,
    out: np.ndarray,
) -> None:
    """Fill ``out`` with ``k`` pool entries (``-1`` pads when the pool is shorter)."""
    out[:] = -1
    if lam == 0.0:
        _pool_head(pool, k, out)
        return
    taken = np.zeros(pool.size, dtype=np.bool_)
    mass = np.zeros(p.size, dtype=np.float64)
    base = np.zeros(p.size, dtype=np.float64)
    total = 0.0
    for slot in range(k):
        base_kl = 0.0
        for genre in range(p.size):
            if p[genre] > 0.0:
                base[genre] = _term(p[genre], mass[genre], total + 1.0, alpha)
                base_kl += base[genre]
        best, best_value = -1, -np.inf
        for j in range(pool.size):
            if taken[j] or pool[j] < 0:
                continue
            kl = _candidate_kl(p, mass, total, genres[pool[j]], base, base_kl, alpha)
            value = (1.0 - lam) * relevance[j] - lam * kl
            if value > best_value:
                best, best_value = j, value
        if best < 0:
            return
        taken[best] = True
        out[slot] = pool[best]
        mass += genres[pool[best]]
        total += genres[pool[best]].sum()


@numba.njit(parallel=True, nogil=True, cache=True)
def calibrate_rows(
    pools: np.ndarray,
    relevance: np.ndarray,
    genres: np.ndarray,
    tastes: np.ndarray,
    k: int,
    lams: np.ndarray,
    alpha: float,
    out: np.ndarray,
) -> None:
    """Each row's calibrated list of ``k`` movie indices into ``out`` (rows in parallel).

    Args:
        pools: ``(n_rows, pool)`` int32 candidate movie indices, best first (``-1`` pads).
        relevance: ``(n_rows, pool)`` float64 normalised relevance of each candidate.
        genres: ``(n_movies, n_genres)`` float64 genre weights of every movie.
        tastes: ``(n_rows, n_genres)`` float64 genre distribution p of each person.
        k: Films per list.
        lams: ``(n_rows,)`` float64 weight of the KL term of each row, 0 to 1.
        alpha: Share of p mixed into the list's distribution (keeps KL finite).
        out: ``(n_rows, k)`` int32, filled in place.
    """
    for row in numba.prange(pools.shape[0]):
        lam = lams[row]
        _greedy_row(pools[row], relevance[row], genres, tastes[row], k, lam, alpha, out[row])


@numba.njit(nogil=True, cache=True)
def calibrate_one_row(
    pool: np.ndarray,
    relevance: np.ndarray,
    genres: np.ndarray,
    taste: np.ndarray,
    k: int,
    lam: float,
    alpha: float,
    out: np.ndarray,
) -> None:
    """:func:`calibrate_rows` for one person, in the calling thread (no OpenMP region)."""
    _greedy_row(pool, relevance, genres, taste, k, lam, alpha, out)
